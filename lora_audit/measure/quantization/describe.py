"""The quantization a base is trained under, described: a framework's request and config.json's block, combined.

Two places can ask for it: a framework config (axolotl ``load_in_4bit`` / ``adapter: qlora``,
LLaMA-Factory ``quantization_bit``, TRL ``load_in_4bit``; a front-end puts it in
``LoraSpec.quantization_request``) and the checkpoint's own config.json (``quantization_config``:
bitsandbytes, GPTQ, AWQ, FP8, compressed-tensors, ...). :func:`describe` combines them into the
report's ``quantization`` object, as transformers 5.24 does in ``quantizers/auto.py``
``AutoHfQuantizer.merge_quantization_configs`` (the checkpoint's ``quantization_config`` is used; a
request of another config class raises ``ValueError: The model is quantized with GPTQConfig but you
are passing a BitsAndBytesConfig config``). Parsing needs neither torch nor transformers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from lora_audit.measure.quantization.backends import (
    BACKENDS,
    CONFIG_CLASSES,
    NOT_TRAINABLE,
    Backend,
)
from lora_audit.report import (
    QuantizationConflict,
    QuantizationFacts,
    QuantizationRef,
    UnsupportedFeature,
)

#: Where config.json's block is reported to come from.
CHECKPOINT_SOURCE = "config.json: quantization_config"


#: Skip-list fields, per method (the first one present is used). compressed-tensors calls it ``ignore``.
_SKIP_FIELDS = ("llm_int8_skip_modules", "modules_to_not_convert", "ignore", "ignored_layers")


#: Settings worth showing, when present (everything else stays in config.json).
_DETAIL_KEYS = (
    "bnb_4bit_quant_type", "bnb_4bit_use_double_quant", "bnb_4bit_compute_dtype", "bnb_4bit_quant_storage",
    "llm_int8_threshold", "group_size", "desc_act", "sym", "zero_point", "version", "checkpoint_format",
    "fmt", "activation_scheme", "weight_block_size", "format", "quantization_status", "nbits", "quant_type",
    "modules_in_block_to_quantize", "block_name_to_quantize", "dequantize",
)


@dataclass(frozen=True)
class Quantization:
    """One side parsed: config.json's ``quantization_config``, or a framework's request."""

    method: str
    bits: int | None
    source: str
    details: dict[str, Any]
    skip_modules: list[str]
    skip_field: str | None
    #: why config.json's block could not be read (it is not a mapping)
    unreadable: str | None = None

    @property
    def label(self) -> str:
        return f"{self.method} {self.bits}-bit" if self.bits else self.method

    def ref(self) -> QuantizationRef:
        return QuantizationRef(method=self.method, bits=self.bits, source=self.source)


def from_checkpoint(block: Any) -> Quantization | None:
    """config.json's ``quantization_config`` parsed: method, bits, details, and the skip list.

    >>> from_checkpoint({"quant_method": "gptq", "bits": 4, "group_size": 128}).bits
    4
    """
    if block is None:
        return None
    if hasattr(block, "to_dict"):  # a transformers QuantizationConfigMixin on an in-memory model
        block = block.to_dict()
    if not isinstance(block, dict):
        return Quantization(method="unknown", bits=None, source=CHECKPOINT_SOURCE, details={}, skip_modules=[],
                            skip_field=None,
                            unreadable=f"quantization_config is a {type(block).__name__}, not a mapping")
    method = str(block.get("quant_method") or "").lower().replace("_", "-") if block.get("quant_method") else ""
    method = {"fbgemm-fp8": "fbgemm_fp8", "fp-quant": "fp_quant"}.get(method, method)
    if not method and (block.get("load_in_4bit") or block.get("load_in_8bit")):
        method = "bitsandbytes"  # transformers' BitsAndBytesConfig.from_dict on a pre-quant_method config
    skip_field = next((k for k in _SKIP_FIELDS if block.get(k) is not None), None)
    skip = block.get(skip_field) if skip_field else None
    return Quantization(
        method=method or "unknown",
        bits=_bits(method, block),
        source=CHECKPOINT_SOURCE,
        details=_details(method, block),
        skip_modules=_skip_list(skip),
        skip_field=skip_field,
    )


def _skip_list(skip: Any) -> list[str]:
    if isinstance(skip, str):
        return [skip]
    if isinstance(skip, (list, tuple)):
        return [str(s) for s in skip if isinstance(s, (str, int, float))]
    return []


def _bits(method: str, block: dict[str, Any]) -> int | None:
    if method == "bitsandbytes":
        if block.get("load_in_4bit") or block.get("_load_in_4bit"):
            return 4
        if block.get("load_in_8bit") or block.get("_load_in_8bit"):
            return 8
        return None
    if method in ("fp8", "mxfp8", "fbgemm_fp8", "eetq"):
        return 8
    if method in ("mxfp4", "nvfp4"):
        return 4
    if method == "compressed-tensors":
        widths = {
            group["weights"].get("num_bits")
            for group in _groups(block).values()
            if isinstance(group, dict) and isinstance(group.get("weights"), dict)
            and isinstance(group["weights"].get("num_bits"), int)
        }
        return widths.pop() if len(widths) == 1 else None
    for key in ("bits", "w_bit", "nbits", "num_bits", "weight_bits"):
        value = block.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    weights = block.get("weights")  # quanto: "int8", "int4", "float8"
    match = re.fullmatch(r"[a-z]+(\d+)", weights) if isinstance(weights, str) else None
    return int(match.group(1)) if match else None


def _details(method: str, block: dict[str, Any]) -> dict[str, Any]:
    out = {k: block[k] for k in _DETAIL_KEYS if k in block and _plain_value(block[k])}
    if method == "compressed-tensors":
        for name, group in sorted(_groups(block).items()):
            if isinstance(group, dict):
                raw = group.get("weights")
                weights: dict[str, Any] = raw if isinstance(raw, dict) else {}
                out[f"{name}.weights"] = ", ".join(
                    f"{k}={weights[k]}" for k in ("num_bits", "type", "strategy", "group_size") if k in weights
                )
                if isinstance(group.get("targets"), list):
                    out[f"{name}.targets"] = [str(t) for t in group["targets"]]
    return out


def _groups(block: dict[str, Any]) -> dict[str, Any]:
    groups = block.get("config_groups")
    return {str(k): v for k, v in groups.items()} if isinstance(groups, dict) else {}


def _plain_value(value: Any) -> bool:
    if isinstance(value, (str, int, float, bool)):
        return True
    return isinstance(value, list) and all(isinstance(v, (str, int, float, bool, list)) for v in value)


def method_key(method: str, bits: int | None) -> str:
    if method == "bitsandbytes":
        return f"bitsandbytes-{bits}bit" if bits in (4, 8) else "bitsandbytes-4bit"
    return method


def describe(
    request: dict[str, Any] | None, checkpoint_block: Any, lora_config: dict[str, Any]
) -> QuantizationFacts | None:
    """The report's ``quantization`` facts, before the adapted modules are classified.

    ``request`` is ``LoraSpec.quantization_request``; ``checkpoint_block`` is config.json's
    ``quantization_config`` (a dict, or transformers' config object on an in-memory model).
    :func:`~lora_audit.measure.quantization.classify.classify_targets` completes them.
    """
    checkpoint = from_checkpoint(checkpoint_block)
    asked = _normal_request(request)
    conflict: QuantizationConflict | None = None
    if checkpoint is not None:
        effective = checkpoint
        resolution, conflict = ("checkpoint", None) if asked is None else _merge(asked, checkpoint)
    elif asked is not None:
        effective, resolution = asked, "request"
    else:
        return None
    key = method_key(effective.method, effective.bits)
    backend = BACKENDS.get(key)
    trainable, trainable_note = _trainability(effective.method, backend)
    note = (backend.note if backend else "") or None
    if checkpoint is not None and checkpoint.unreadable:
        note = checkpoint.unreadable
    unsupported = [] if backend is None else [
        UnsupportedFeature(feature=lim.feature, value=_plain_json(lora_config.get(lim.feature)),
                           severity=lim.severity, message=lim.message)
        for lim in backend.limits
        if lim.applies(lora_config)
    ]
    return QuantizationFacts(
        method=effective.method,
        bits=effective.bits,
        source=effective.source,
        details=dict(effective.details),
        skip_modules=list(effective.skip_modules),
        skip_field=effective.skip_field,
        default_skips=[],
        request=None if asked is None else asked.ref(),
        checkpoint=None if checkpoint is None else checkpoint.ref(),
        resolution=resolution,
        conflict=conflict,
        known=backend is not None,
        peft_layer=backend.peft_layer if backend else None,
        peft_requires=backend.requires if backend else None,
        note=note,
        trainable=trainable,
        trainable_note=trainable_note or None,
        quantized_targets=0,
        unquantized_targets=[],
        unsupported=unsupported,
    )


def _normal_request(request: dict[str, Any] | None) -> Quantization | None:
    if not request:
        return None
    method = str(request.get("method") or "bitsandbytes").lower()
    # Framework spellings (LLaMA-Factory's quantization_method "bnb") and transformers' per-bits keys.
    method = {"bnb": "bitsandbytes", "bitsandbytes_4bit": "bitsandbytes", "bitsandbytes_8bit": "bitsandbytes",
              "qlora": "bitsandbytes"}.get(method, method)
    bits = request.get("bits")
    return Quantization(
        method=method,
        bits=bits if isinstance(bits, int) and not isinstance(bits, bool) else None,
        source=str(request.get("source") or "lora config"),
        # the request's own settings (a script's BitsAndBytesConfig(bnb_4bit_use_double_quant=True, ...))
        details=_details(method, request["settings"]) if isinstance(request.get("settings"), dict) else {},
        skip_modules=[str(s) for s in request.get("skip_modules") or []],
        skip_field=request.get("skip_field"),
    )


def _merge(request: Quantization, checkpoint: Quantization) -> tuple[str, QuantizationConflict | None]:
    """transformers' merge_quantization_configs: the checkpoint's config is used; another class raises."""
    req_cls = CONFIG_CLASSES.get(request.method, request.method)
    ckpt_cls = CONFIG_CLASSES.get(checkpoint.method, checkpoint.method)
    if req_cls != ckpt_cls:
        return "conflict", QuantizationConflict(
            kind="method",
            message=(
                f"{request.source} asks for {request.label}, but the checkpoint is already quantized with "
                f"{checkpoint.label} ({checkpoint.source}); transformers refuses to load it: 'The model is "
                f"quantized with {ckpt_cls} but you are passing a {req_cls} config'"
            ),
        )
    if request.bits is not None and checkpoint.bits is not None and request.bits != checkpoint.bits:
        return "checkpoint-wins", QuantizationConflict(
            kind="bits",
            message=(
                f"{request.source} asks for {request.label}, but the checkpoint is already {checkpoint.label} "
                f"({checkpoint.source}); transformers uses the checkpoint's quantization_config and ignores the "
                "request"
            ),
        )
    return "agree", None


def _trainability(method: str, backend: Backend | None) -> tuple[bool | None, str]:
    if method in NOT_TRAINABLE:
        return False, (f"transformers' {NOT_TRAINABLE[method]}.is_trainable is False: the Trainer refuses to "
                       "fine-tune this model (trainer_utils.validate_quantization_for_training)")
    if backend is None:
        return None, ""
    return backend.trainable, backend.trainable_note


def _plain_json(value: object) -> str | int | float | bool | None:
    return value if value is None or isinstance(value, (str, int, float, bool)) else str(value)


