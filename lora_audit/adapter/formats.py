"""Which LoRA format a tensor table is written in, from its key names.

PEFT's own files (``adapter_model.safetensors``, keys ``base_model.model.<module>.lora_A.weight``)
are audited; local kohya files are converted with diffusers' conversion (``kohya.py``), and local
diffusers pipeline files are read as ``load_lora_weights`` reads them (``diffusers_format.py``).
Other formats are named, never misread as PEFT keys:

- kohya-ss / sd-scripts (and the A1111/ComfyUI files made with it): ``lora_unet_<path>.lora_down.weight``,
  ``lora_te1_...``, ``.alpha`` scalars; key naming from kohya-ss/sd-scripts ``networks/lora.py``
  (``LORA_PREFIX_UNET = "lora_unet"``, ``LORA_PREFIX_TEXT_ENCODER = "lora_te"``).
- diffusers' pipelines (``pytorch_lora_weights.safetensors``): keys start with ``unet.``,
  ``transformer.`` or ``text_encoder.`` (PEFT-style ``lora_A`` / ``lora_B`` under a component prefix),
  or use the older ``.lora.down.weight`` / ``to_q_lora.up.weight`` naming (diffusers 0.21-0.26).
- MLX-LM (``adapters.safetensors``): ``<module>.lora_a`` / ``.lora_b`` without ``.weight``, and an
  ``adapter_config.json`` with ``fine_tune_type`` and ``lora_parameters`` (mlx-examples ``llms/mlx_lm/tuner/lora.py``).
"""

from __future__ import annotations

from collections.abc import Iterable

PEFT = "peft"
KOHYA = "kohya"
DIFFUSERS = "diffusers"
MLX = "mlx"

#: How each foreign format is named in messages, and what to do about it.
DESCRIPTIONS = {
    KOHYA: (
        "a kohya-ss (sd-scripts / A1111 / ComfyUI) LoRA for a diffusion model",
        "lora-audit converts a local kohya .safetensors file with diffusers' own conversion: download it "
        "and pass the file with the pipeline's denoiser (--component unet / transformer)",
    ),
    DIFFUSERS: (
        "a diffusers pipeline LoRA (keys under unet. / transformer. / text_encoder.)",
        "lora-audit reads a local diffusers .safetensors file as load_lora_weights() does: download it "
        "and pass the file with the pipeline's denoiser (--component unet / transformer)",
    ),
    MLX: (
        "an MLX-LM adapter (lora_a / lora_b keys)",
        "lora-audit audits PEFT adapters; convert with mlx_lm.fuse (or export a PEFT adapter) "
        "and audit that",
    ),
}


def detect(keys: Iterable[str], config: dict | None = None) -> str:
    """The format of a tensor table: peft, kohya, diffusers or mlx (unknown names read as peft)."""
    keys = list(keys)
    if config and ("fine_tune_type" in config or "lora_parameters" in config):
        return MLX
    if any(k.startswith(("lora_unet_", "lora_te_", "lora_te1_", "lora_te2_", "lora_te3_")) for k in keys):
        return KOHYA
    if any(".lora_down." in k or ".lora_up." in k for k in keys):
        return KOHYA
    if any(k.startswith(("unet.", "transformer.", "text_encoder.", "text_encoder_2.")) for k in keys) or any(
        ".lora.down." in k or ".lora.up." in k or "_lora.down." in k for k in keys
    ):
        return DIFFUSERS
    if keys and any(k.endswith((".lora_a", ".lora_b")) for k in keys):
        return MLX
    return PEFT
