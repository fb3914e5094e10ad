"""kohya-ss (sd-scripts / A1111 / ComfyUI) diffusion LoRA files, converted by diffusers itself.

A kohya file (``lora_unet_<path>.lora_down.weight``, ``.lora_up.weight``, ``.alpha``) carries no
adapter_config.json. diffusers loads it by converting its keys and deriving a LoraConfig; this
module does the same on the file's **safetensors header**: every tensor becomes a meta tensor of
its shape and dtype (``torch.empty(shape, dtype=..., device="meta")``); only the ``.alpha``
scalars are read (4 bytes each: the conversion needs their values). Reproduces diffusers 0.42.1:

- SD 1.x / SDXL (``StableDiffusionXLPipeline.lora_state_dict``: every key starts with ``lora_te`` /
  ``lora_unet``): ``_convert_non_diffusers_lora_to_diffusers`` -> diffusers keys and network alphas.
- FLUX.1 (``FluxPipeline.lora_state_dict``: a ``.lora_down.weight`` key; kohya's Flux names have
  ``double_blocks`` / ``single_blocks``): ``_convert_kohya_flux_lora_to_diffusers`` (alpha folded in).
- Then as ``load_lora_into_unet`` / ``load_lora_into_transformer`` -> ``ModelMixin.load_lora_adapter``
  (``diffusers/loaders/peft.py``): keep the ``unet.`` / ``transformer.`` keys without that prefix,
  ``convert_unet_state_dict_to_peft`` (``diffusers.utils``) when not PEFT-named yet, ranks from the
  ``lora_B`` shapes (``rank["^" + key] = shape[1]``), and the LoraConfig from ``get_peft_kwargs``
  (``diffusers/utils/peft_utils.py``).

The private functions are reached through ``lora_audit/integrations/diffusers.py`` only. The converted
denoiser keys are audited like a PEFT adapter; text-encoder keys (``lora_te*``) are counted and
named as not audited against the denoiser. A layout diffusers cannot convert keeps the exit-2
``adapter-format-unsupported`` error.
"""

from __future__ import annotations

import json
import math
import struct
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lora_audit.adapter.header import TensorTable
from lora_audit.capture import capture_messages
from lora_audit.errors import AuditError, first_line
from lora_audit.guards.files import open_regular_binary
from lora_audit.integrations import diffusers as private
from lora_audit.model.libraries.diffusers import require_diffusers
from lora_audit.report import ConversionFacts

if TYPE_CHECKING:
    from lora_audit.adapter.source import AdapterFile
    from lora_audit.model.build import BuiltModel

#: safetensors dtype <-> torch dtype name
_TORCH = {"F64": "float64", "F32": "float32", "F16": "float16", "BF16": "bfloat16", "I64": "int64", "I32": "int32",
          "I16": "int16", "I8": "int8", "U8": "uint8", "BOOL": "bool"}
_SAFE = {v: k for k, v in _TORCH.items()}
_SCALAR = {"F64": "<d", "F32": "<f", "I64": "<q", "I32": "<i", "I16": "<h", "I8": "<b", "U8": "<B"}
PEFT_PREFIX = "base_model.model."
TEXT_ENCODER_PREFIXES = ("lora_te_", "lora_te1_", "lora_te2_", "lora_te3_")


def convert(path: Path, table: TensorTable, spec: str) -> tuple[TensorTable, dict[str, Any], ConversionFacts]:
    """``(denoiser table under PEFT names, LoraConfig fields, conversion facts)`` for a local kohya file."""
    import torch

    diffusers = require_diffusers(f"{spec} is a kohya-ss diffusion LoRA, which diffusers converts, and")

    state = _meta_state_dict(path, table, torch)
    text_keys = sorted(k for k in table.tensors if k.startswith(TEXT_ENCODER_PREFIXES))
    flux = any("double_blocks" in k or "single_blocks" in k for k in table.tensors)
    component = "transformer" if flux else "unet"
    function = "_convert_kohya_flux_lora_to_diffusers" if flux else "_convert_non_diffusers_lora_to_diffusers"
    try:
        with capture_messages("apply"):
            if flux:
                converted, alphas = private.convert_kohya_flux(dict(state)), None
            else:
                converted, alphas = private.convert_non_diffusers_sd(dict(state))
            denoiser = {k.removeprefix(f"{component}."): v for k, v in converted.items()
                        if k.startswith(f"{component}.")}
            if not denoiser:
                raise ValueError(f"no {component} keys after the conversion")
            if "lora_A" not in next(iter(denoiser)):
                denoiser = private.convert_unet_to_peft(denoiser)
            rank = {f"^{k}": v.shape[1] for k, v in denoiser.items() if "lora_B" in k and v.ndim > 1}
            if alphas:
                alphas = {k.removeprefix(f"{component}."): v for k, v in alphas.items()
                          if k.startswith(f"{component}.")}
            fields = private.peft_kwargs(rank, alphas, denoiser)
    except AuditError:
        raise
    except Exception as exc:  # noqa: BLE001 - any failure inside diffusers' conversion: a layout it does not know
        if private.needs_tensor_values(exc):  # e.g. the split-qkv sparsity test of the Flux conversion compares values
            raise AuditError(
                "adapter-format-unsupported",
                f"{spec} is a kohya-ss LoRA whose conversion ({function}, diffusers {diffusers.__version__}) "
                "depends on its tensor values, which lora-audit does not read",
                "load it with diffusers (pipeline.load_lora_weights), save it with save_lora_weights(), "
                "and audit that file",
            ) from None
        raise AuditError(
            "adapter-format-unsupported",
            f"{spec} is a kohya-ss LoRA that diffusers {diffusers.__version__} cannot convert "
            f"({function}: {type(exc).__name__}: {first_line(exc, 160)})",
            "lora-audit audits what diffusers' pipeline.load_lora_weights() would load; a newer diffusers may "
            "know this layout (pip install -U diffusers)",
        ) from None
    fields = {k: _plain(v) for k, v in fields.items() if v not in ({}, False)}
    fields["target_modules"] = sorted(fields["target_modules"])
    out = denoiser_table(denoiser, table)
    return out, fields, conversion_facts("kohya", function, component, "keys", table, out, text_keys)


def conversion_facts(
    source: str, function: str, component: str, config_from: str, file_table: TensorTable, out: TensorTable,
    text_keys: list[str],
) -> ConversionFacts:
    """The report's ``adapter.conversion``: how diffusers read a kohya or diffusers file."""
    import diffusers

    return ConversionFacts(
        from_format=source,
        diffusers_version=diffusers.__version__,
        function=function,
        component=component,
        config_from=config_from,
        file_tensors=len(file_table.tensors),
        denoiser_tensors=len(out.tensors),
        text_encoder_tensors=len(text_keys),
        text_encoder_keys=text_keys[:2000],
    )


def denoiser_table(state: dict[str, Any], file_table: TensorTable) -> TensorTable:
    """The denoiser's converted (meta) tensors as a table of PEFT-named keys, with the file's sizes."""
    tensors = {PEFT_PREFIX + k: (_SAFE.get(str(v.dtype).removeprefix("torch."), "F32"), list(v.shape))
               for k, v in state.items()}
    return TensorTable(tensors=tensors, header_bytes=file_table.header_bytes, metadata=file_table.metadata,
                       data_bytes=file_table.data_bytes, file_bytes=file_table.file_bytes)


def _plain(value: Any) -> Any:
    """JSON-able LoraConfig values (a tensor alpha becomes its number; integral floats stay floats)."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _meta_state_dict(path: Path, table: TensorTable, torch: Any) -> dict[str, Any]:
    """Every tensor of the header on the meta device; ``.alpha`` scalars read (the conversion uses their value)."""
    offsets = _offsets(path)
    state: dict[str, Any] = {}
    with open_regular_binary(path) as handle:
        for name, (dtype, shape) in table.tensors.items():
            torch_dtype = getattr(torch, _TORCH.get(dtype, "float32"))
            if name.endswith(".alpha") and math.prod(shape) == 1 and dtype in _SCALAR | {"F16": 0, "BF16": 0}:
                state[name] = torch.tensor(_scalar(handle, path, table, offsets[name], dtype), dtype=torch.float32)
            else:
                state[name] = torch.empty(shape, dtype=torch_dtype, device="meta")
    return state


def _offsets(path: Path) -> dict[str, list[int]]:
    with open_regular_binary(path) as handle:
        (length,) = struct.unpack("<Q", handle.read(8))
        header = json.loads(handle.read(length).decode("utf-8"))
    return {k: v.get("data_offsets") for k, v in header.items() if k != "__metadata__"}


def _scalar(handle: Any, path: Path, table: TensorTable, offsets: Any, dtype: str) -> float:
    start, end = offsets
    handle.seek(8 + table.header_bytes + start)
    raw = handle.read(end - start)
    if len(raw) != end - start:
        raise AuditError("adapter-malformed", f"{path} ends before its .alpha values",
                         "the file is truncated: copy or download it again")
    if dtype == "F16":
        value = struct.unpack("<e", raw)[0]
    elif dtype == "BF16":
        value = struct.unpack("<f", b"\0\0" + raw)[0]
    else:
        value = struct.unpack(_SCALAR[dtype], raw)[0]
    if not math.isfinite(value) or value <= 0:
        raise AuditError("adapter-malformed", f"{path} has an .alpha of {value!r}",
                         "a LoRA alpha is a positive number: save the file again")
    return float(value)


_FROM = {"kohya": "kohya-ss", "diffusers": "diffusers pipeline"}


def check_base(found: AdapterFile, built: BuiltModel) -> None:
    """A converted kohya or diffusers file is audited against the denoiser its keys load into, nothing else."""
    conversion = found.conversion
    if conversion is None:
        return
    component = conversion.component
    fits = getattr(built, "library", None) == "diffusers" and (
        built.class_name.startswith("UNet") if component == "unet" else "Transformer" in built.class_name)
    if not fits:
        kind = "a UNet (SD 1.x / SDXL)" if component == "unet" else "a diffusion transformer (Flux, SD3, Wan...)"
        raise AuditError(
            "adapter-base-mismatch",
            f"{found.spec} is a {_FROM[conversion.from_format]} LoRA for {kind} ({component}. keys as diffusers "
            f"loads them); the base is {built.class_name}",
            f"pass the pipeline's {component}: lora-audit PIPELINE --component {component} --adapter {found.spec}",
        )
