"""diffusers pipeline LoRA files (``pytorch_lora_weights.safetensors``), read as diffusers loads them.

diffusers' training scripts and ``save_lora_weights`` write one file for the whole pipeline: the
denoiser's keys under ``unet.`` or ``transformer.``, the text encoders' under ``text_encoder.``
(``_2``, ``_3``), either PEFT-named (``...to_q.lora_A.weight``, the Flux and SD3 scripts) or in
diffusers' older naming (``...to_q.lora.down.weight``: ``train_dreambooth_lora_sdxl.py`` saves
``convert_state_dict_to_diffusers(get_peft_model_state_dict(unet))``). Newer files carry the
LoraConfig itself in the safetensors metadata (``lora_adapter_metadata``, component-prefixed).

This module does what ``pipeline.load_lora_weights`` -> ``load_lora_into_unet`` /
``load_lora_into_transformer`` -> ``ModelMixin.load_lora_adapter(prefix=component)`` does, on
meta tensors built from the header (no tensor data is read, from a local file or, by one range
request, from the hub; reproduces diffusers 0.42.1,
``diffusers/loaders/peft.py``): keep the component's keys without the prefix (and its part of the
metadata), ``convert_unet_state_dict_to_peft`` when the first key is not PEFT-named, ranks from the
``lora_B`` shapes, and ``_create_lora_config``: the metadata as the LoraConfig when the file has
it, else ``get_peft_kwargs`` (``diffusers/utils/peft_utils.py``) with no network alphas, so
``lora_alpha`` equals the rank.

Refused with exit 2 rather than guessed: ``alpha`` keys (pipelines disagree about them: Flux's
``lora_state_dict`` takes them as network alphas, SD3's and Wan's leave them in the state dict),
``dora_scale`` keys (dropped by SD / SDXL with a warning), keys without a component prefix
(diffusers 0.42.1 loads nothing from them), and a file without denoiser keys.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from lora_audit.adapter.header import TensorTable
from lora_audit.adapter.kohya import _TORCH, _plain, conversion_facts, denoiser_table
from lora_audit.capture import capture_messages
from lora_audit.errors import AuditError, first_line
from lora_audit.integrations import diffusers as private
from lora_audit.model.libraries.diffusers import require_diffusers
from lora_audit.report import ConversionFacts

COMPONENTS = ("unet", "transformer")
WEIGHTS_NAME = "pytorch_lora_weights.safetensors"  #: diffusers.loaders.lora_base.LORA_WEIGHT_NAME_SAFE
TEXT_ENCODER_PREFIXES = ("text_encoder.", "text_encoder_2.", "text_encoder_3.")
METADATA_KEY = "lora_adapter_metadata"  #: diffusers.loaders.lora_base.LORA_ADAPTER_METADATA_KEY


def convert(path: Path | None, table: TensorTable, spec: str) -> tuple[TensorTable, dict[str, Any], ConversionFacts]:
    """``(denoiser table under PEFT names, LoraConfig fields, conversion facts)`` for a diffusers file.

    Only the header is used (``path`` may be None: a hub file's header came by a range request).
    """
    import torch

    diffusers = require_diffusers(f"{spec} is a diffusers pipeline LoRA, read as diffusers reads it, and")
    keys = list(table.tensors)
    component = next((c for c in COMPONENTS if any(k.startswith(f"{c}.") for k in keys)), None)
    text_keys = sorted(k for k in keys if k.startswith(TEXT_ENCODER_PREFIXES))
    _refuse_what_diffusers_reads_differently(keys, component, text_keys, spec, diffusers.__version__)
    assert component is not None
    metadata = _metadata(table, component, spec)
    state = {k.removeprefix(f"{component}."): torch.empty(shape, dtype=getattr(torch, _TORCH.get(dtype, "float32")),
                                                          device="meta")
             for k, (dtype, shape) in table.tensors.items() if k.startswith(f"{component}.")}
    function = "load_lora_adapter"
    try:
        with capture_messages("apply"):
            if "lora_A" not in next(iter(state)):
                state = private.convert_unet_to_peft(state)
                function = "load_lora_adapter (convert_unet_state_dict_to_peft)"
            rank = {f"^{k}": v.shape[1] for k, v in state.items() if "lora_B" in k and v.ndim > 1}
            fields = dict(metadata) if metadata is not None else private.peft_kwargs(rank, None, state)
    except Exception as exc:  # noqa: BLE001 - any failure inside diffusers' conversion: a layout it does not know
        raise AuditError(
            "adapter-format-unsupported",
            f"{spec} is a diffusers pipeline LoRA that diffusers {diffusers.__version__} cannot read "
            f"({type(exc).__name__}: {first_line(exc, 160)})",
            "a newer diffusers may (pip install -U diffusers); otherwise save it again with save_lora_weights()",
        ) from None
    if metadata is None:  # get_peft_kwargs' empty patterns and False flags are LoraConfig's defaults
        fields = {k: v for k, v in fields.items() if v not in ({}, False)}
    fields = {k: _plain(v) for k, v in fields.items()}
    if isinstance(fields.get("target_modules"), (list, set, tuple)):
        fields["target_modules"] = sorted(fields["target_modules"])
    out = denoiser_table(state, table)
    config_from = "metadata" if metadata is not None else "keys"
    facts = conversion_facts("diffusers", function, component, config_from, table, out, text_keys)
    return out, fields, facts


def _refuse_what_diffusers_reads_differently(
    keys: list[str], component: str | None, text_keys: list[str], spec: str, version: str
) -> None:
    def refuse(why: str, fix: str) -> AuditError:
        return AuditError("adapter-format-unsupported", f"{spec} is a diffusers pipeline LoRA {why}", fix)

    if component is None:
        if text_keys:
            raise refuse("with text-encoder tensors only (text_encoder.*): there is no denoiser part to audit",
                         "audit the text encoder with a LoRA config: lora-audit PIPELINE --component text_encoder")
        raise refuse(f"whose keys have no unet. / transformer. prefix: diffusers {version} loads nothing from them",
                     "load it with the diffusers release that wrote it and save it again with save_lora_weights()")
    if all(any(k.startswith(f"{c}.") for k in keys) for c in COMPONENTS):
        raise refuse("with both unet. and transformer. keys: no one pipeline loads both",
                     "split the file per pipeline, or save it again with save_lora_weights()")
    alphas = [k for k in keys if k.startswith(f"{component}.") and "alpha" in k]
    if alphas:
        raise refuse(f"with {len(alphas)} alpha keys ({alphas[0]}...): diffusers' pipelines read them differently "
                     "(Flux takes them as network alphas; SD3 and Wan keep them as state-dict keys)",
                     "load it with your pipeline's load_lora_weights() and save it again with save_lora_weights()")
    if any("dora_scale" in k for k in keys):
        raise refuse("with dora_scale keys, which diffusers drops for UNet pipelines",
                     "save the DoRA adapter with PEFT (lora_magnitude_vector keys) and audit that")


def _metadata(table: TensorTable, component: str, spec: str) -> dict[str, Any] | None:
    """The component's LoraConfig from ``lora_adapter_metadata``, as ``load_lora_adapter`` filters it."""
    raw = (table.metadata or {}).get(METADATA_KEY)
    if not raw:
        return None
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise AuditError("adapter-malformed", f"{spec}: its {METADATA_KEY} metadata is not valid JSON",
                         "save the LoRA again with diffusers' save_lora_weights()") from None
    if not isinstance(data, dict):
        raise AuditError("adapter-malformed", f"{spec}: its {METADATA_KEY} metadata is not a JSON object",
                         "save the LoRA again with diffusers' save_lora_weights()")
    mine = {k.removeprefix(f"{component}."): v for k, v in data.items() if k.startswith(f"{component}.")}
    if not mine:  # diffusers would build LoraConfig() from the empty remainder: defaults, not this file's
        raise AuditError(
            "adapter-format-unsupported",
            f"{spec}: its {METADATA_KEY} metadata has no {component}. entries, so diffusers would load the "
            f"{component} part with a default LoraConfig",
            "save the LoRA again with save_lora_weights(..., {component}_lora_adapter_metadata=...)",
        )
    return mine
