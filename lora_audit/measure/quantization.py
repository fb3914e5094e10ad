"""The quantization a base model is trained under: read, described, and checked against PEFT.

Two places can ask for it: a framework config (axolotl ``load_in_4bit`` / ``adapter: qlora``,
LLaMA-Factory ``quantization_bit``, TRL ``load_in_4bit``; a front-end puts it in
``LoraSpec.quantization_request``) and the checkpoint's own config.json (``quantization_config``:
bitsandbytes, GPTQ, AWQ, FP8, compressed-tensors, ...). :func:`describe` combines them into the
report's ``quantization`` object. Parameter counts stay logical (from shapes): nothing here
changes how the meta model is built or counted.

Reproduced, not re-derived (read from the installed sources):

- **transformers 5.24** -- which config wins when both are given:
  ``quantizers/auto.py`` ``AutoHfQuantizer.merge_quantization_configs`` (the checkpoint's
  ``quantization_config`` is used; a request of another config class raises ``ValueError: The model
  is quantized with GPTQConfig but you are passing a BitsAndBytesConfig config``). Which modules a
  quantizer leaves in full precision: ``quantizers/base.py`` ``get_modules_to_not_convert``: the
  config's skip list (``llm_int8_skip_modules`` for bitsandbytes, ``modules_to_not_convert`` for the
  others) or, when it gives none (AWQ: always), ``get_keys_to_not_convert`` (tied weights, the last
  parameter, the output embedding), plus the model class's ``_keep_in_fp32_modules``; matched by
  ``quantizers/quantizers_utils.py`` ``should_convert_module`` (a regex from the start of the name
  up to a module boundary, or a suffix: ``"model.layers.1."`` also matches ``model.layers.15``).
  GPTQ checkpoints quantize the Linear layers of the decoder blocks (``block_name_to_quantize``,
  ``modules_in_block_to_quantize``). Whether a method can be fine-tuned
  at all: each ``quantizers/quantizer_*.py`` ``is_trainable``, enforced by
  ``trainer_utils.validate_quantization_for_training``. bitsandbytes replaces exact ``nn.Linear``
  and ``Conv1D`` layers (``integrations/bitsandbytes.py``); the other quantizers replace Linear
  layers.
- **compressed-tensors** ``utils/match.py`` ``match_name`` for its ``ignore`` list: ``re:`` entries
  are ``re.match`` regexes, other entries match a module name exactly or a class name.
- **PEFT 0.21.2** -- which LoRA features each backend refuses: the dispatchers in
  ``peft/tuners/lora/model.py`` ``_create_new_module`` and the layer classes they build,
  ``peft/tuners/lora/{bnb,gptq,awq,aqlm,eetq,hqq,torchao}.py`` (``__init__`` and
  ``resolve_lora_variant`` checks), and ``peft/tuners/lora/layer.py`` (``pissa_init``,
  ``corda_init``, ``olora_init``, ``mica_init`` require a float32/float16/bfloat16 weight). See
  :data:`BACKENDS`.

Parsing needs neither torch nor transformers; :func:`classify_targets` imports transformers' own
matcher when it runs.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

#: Where config.json's block is reported to come from.
CHECKPOINT_SOURCE = "config.json: quantization_config"
PEFT_VERSION_READ = "0.21.2"

_FLOAT_INITS = ("pissa", "corda", "mica")
#: Marks a skip entry that transformers matched as a regex where its literal text is not in the name
#: ("model.layers.1." keeps model.layers.15 out: its "." matches any character).
REGEX_WIDENED = "(matched as a regex: not literally in the name)"


@dataclass(frozen=True)
class Limit:
    """One LoRA feature that PEFT cannot combine with a quantization backend."""

    feature: str  #: the LoraConfig field, as the user writes it
    applies: Callable[[dict[str, Any]], bool]  #: on the resolved LoraConfig (as a dict)
    severity: str  #: error: PEFT raises; warning: PEFT ignores it or its docs say not to
    message: str  #: what PEFT does, quoting its code


@dataclass(frozen=True)
class Backend:
    """What PEFT and transformers do with one quantization method."""

    label: str
    peft_layer: str | None  #: PEFT's LoRA class for a quantized layer of this method
    requires: str | None  #: the package PEFT's dispatcher needs to recognise the quantized layer
    #: transformers' quantizer ``is_trainable``: True, False, or None when it depends (then ``trainable_note``)
    trainable: bool | None
    trainable_note: str = ""
    quantized_types: tuple[str, ...] = ("Linear",)  #: base-layer class names the quantizer replaces
    limits: tuple[Limit, ...] = ()
    note: str = ""


def _flag(name: str) -> Callable[[dict[str, Any]], bool]:
    return lambda c: bool(c.get(name))


def _set(name: str) -> Callable[[dict[str, Any]], bool]:
    return lambda c: c.get(name) is not None


def _init_in(*prefixes: str) -> Callable[[dict[str, Any]], bool]:
    def check(c: dict[str, Any]) -> bool:
        init = c.get("init_lora_weights")
        return isinstance(init, str) and init.lower().startswith(prefixes)

    return check


def _dora(cls: str) -> Limit:
    return Limit("use_dora", _flag("use_dora"), "error",
                 f"{cls}.__init__ raises ValueError: '{cls} does not support DoRA yet, please set it to False'")


def _velora(cls: str) -> Limit:
    return Limit("velora_config", _set("velora_config"), "error",
                 f"{cls} raises ValueError: '{cls} does not support VeLoRA'")


def _lora_bias(cls: str) -> Limit:
    return Limit("lora_bias", _flag("lora_bias"), "error",
                 f"{cls}.__init__ raises ValueError: '{cls} does not support lora_bias yet, set it to False'")


def _float_init(storage: str, olora: bool) -> Limit:
    inits = _FLOAT_INITS + (("olora",) if olora else ())
    return Limit(
        "init_lora_weights", _init_in(*inits), "error",
        f"LoraLayer.{{pissa,corda,mica{',olora' if olora else ''}}}_init read the base layer's weight and raise "
        f"TypeError unless it is float32/float16/bfloat16 ('Please initialize PiSSA under float32, float16, or "
        f"bfloat16. Subsequently, re-quantize the residual model'); this backend stores {storage}",
    )


_QALORA = Limit("use_qalora", _flag("use_qalora"), "warning",
                "only GPTQLoraLinear.resolve_lora_variant reads use_qalora (LoraConfig: 'only implemented in GPTQ'); "
                "on this backend it is ignored and plain LoRA trains")
_LOFTQ = Limit("init_lora_weights", lambda c: c.get("init_lora_weights") == "loftq", "warning",
               "LoraConfig.loftq_config: 'LoftQ will quantize the backbone weights ... you should not pass a quantized "
               "model in this case, as LoftQ will quantize the model itself'")


def _quantized_limits(cls: str, storage: str, *, dora: bool, velora: bool, lora_bias: bool,
                      olora: bool = True) -> tuple[Limit, ...]:
    out = [_dora(cls)] if not dora else []
    if not velora:
        out.append(_velora(cls))
    if not lora_bias:
        out.append(_lora_bias(cls))
    out += [_float_init(storage, olora), _LOFTQ]
    if cls != "GPTQLoraLinear":
        out.append(_QALORA)
    return tuple(out)


#: quant_method -> what PEFT 0.21.2 and transformers 5.24 do with it (see the module docstring).
BACKENDS: dict[str, Backend] = {
    "bitsandbytes-4bit": Backend(
        "bitsandbytes 4-bit", "lora.Linear4bit", "bitsandbytes", True, quantized_types=("Linear", "Conv1D"),
        # olora_init dequantizes bnb weights itself, so OLoRA works there.
        limits=_quantized_limits("Linear4bit", "packed uint8 (Params4bit)", dora=True, velora=False,
                                 lora_bias=True, olora=False),
    ),
    "bitsandbytes-8bit": Backend(
        "bitsandbytes 8-bit (LLM.int8)", "lora.Linear8bitLt", "bitsandbytes", True,
        quantized_types=("Linear", "Conv1D"),
        limits=_quantized_limits("Linear8bitLt", "int8 (Int8Params)", dora=True, velora=False, lora_bias=True,
                                 olora=False),
    ),
    "gptq": Backend(
        "GPTQ", "lora.GPTQLoraLinear", "gptqmodel", True,
        limits=_quantized_limits("GPTQLoraLinear", "a packed int32 qweight", dora=False, velora=False,
                                 lora_bias=True),
    ),
    "awq": Backend(
        "AWQ", "lora.AwqLoraLinear", "gptqmodel", None,
        trainable_note="transformers trains AWQ models only with gptqmodel >= 5.0.0 (AwqQuantizer.is_trainable)",
        limits=_quantized_limits("AwqLoraLinear", "a packed int32 qweight", dora=False, velora=False,
                                 lora_bias=True),
    ),
    "aqlm": Backend(
        "AQLM", "lora.AqlmLoraLinear", "aqlm", None,
        trainable_note="transformers trains AQLM models only with aqlm >= 1.0.2 (AqlmHfQuantizer.is_trainable)",
        limits=_quantized_limits("AqlmLoraLinear", "codebooks", dora=False, velora=False, lora_bias=True),
    ),
    "eetq": Backend(
        "EETQ int8", "lora.EetqLoraLinear", "eetq", True,
        limits=_quantized_limits("EetqLoraLinear", "int8", dora=False, velora=False, lora_bias=True),
    ),
    "hqq": Backend(
        "HQQ", "lora.HqqLoraLinear", "hqq", True,
        limits=_quantized_limits("HqqLoraLinear", "packed HQQ weights", dora=True, velora=False, lora_bias=False),
    ),
    "torchao": Backend(
        "torchao", "lora.TorchaoLoraLinear", "torchao", None,
        trainable_note="transformers trains torchao models only with 8-bit quant types "
        "(TorchAoHfQuantizer.is_trainable); PEFT's TorchaoLoraLinear raises TypeError on int4 weights "
        "('only supports int8 weights for now')",
        limits=_quantized_limits("TorchaoLoraLinear", "torchao tensor subclasses", dora=True, velora=True,
                                 lora_bias=False),
    ),
    "fp8": Backend(
        "fine-grained FP8", "lora.Linear", None, True,
        note="PEFT 0.21.2 has no LoRA layer of its own for FP8: transformers' FP8Linear subclasses nn.Linear, so "
        "PEFT's default dispatcher wraps it as a plain lora.Linear",
        limits=(_float_init("float8_e4m3fn", olora=True), _LOFTQ, _QALORA),
    ),
    "compressed-tensors": Backend(
        "compressed-tensors", None, "compressed-tensors", None,
        trainable_note="inference-only when loaded with use_optimized_inference=True (the FP8 kernel path); "
        "load with dequantize=True to fine-tune (CompressedTensorsHfQuantizer.is_trainable)",
        note="PEFT 0.21.2 has no LoRA layer for compressed-tensors: it has no dispatcher for CompressedLinear",
        limits=(_float_init("compressed (packed or float8) weights", olora=True), _LOFTQ, _QALORA),
    ),
}
#: Backends whose quantized weights are integer tensors (packed uint8 / int8 / int32): torch refuses
#: ``requires_grad_(True)`` on them, which is what PEFT's ModulesToSaveWrapper does to its full copy.
INTEGER_STORAGE = {"bitsandbytes-4bit", "bitsandbytes-8bit", "gptq", "awq", "aqlm", "eetq", "hqq"}
_SAVED_LIMIT = (
    "PEFT's ModulesToSaveWrapper trains a full copy of the module (peft/utils/other.py _set_layer_requires_grad calls "
    "requires_grad_(True) on every parameter), but a quantized weight is an integer tensor and torch refuses: "
    "'only Tensors of floating point dtype can require gradients'"
)

#: transformers 5.24 quantizers whose is_trainable is False: the Trainer refuses to fine-tune them.
NOT_TRAINABLE = {
    "auto-round": "AutoRoundQuantizer", "fbgemm_fp8": "FbgemmFp8HfQuantizer", "gguf": "GgufHfQuantizer",
    "gemma": "GemmaQuantizer", "higgs": "HiggsHfQuantizer", "metal": "MetalHfQuantizer",
    "mxfp4": "Mxfp4HfQuantizer", "nvfp4": "NVFP4HfQuantizer", "quark": "QuarkHfQuantizer",
    "spqr": "SpQRHfQuantizer", "vptq": "VptqHfQuantizer",
}
#: quant_method -> transformers' config class (what its "quantized with X but you are passing Y" error names).
CONFIG_CLASSES = {
    "bitsandbytes": "BitsAndBytesConfig", "gptq": "GPTQConfig", "awq": "AwqConfig", "aqlm": "AqlmConfig",
    "eetq": "EetqConfig", "hqq": "HqqConfig", "torchao": "TorchAoConfig", "fp8": "FineGrainedFP8Config",
    "mxfp8": "FineGrainedFP8Config", "compressed-tensors": "CompressedTensorsConfig", "quanto": "QuantoConfig",
    "fbgemm_fp8": "FbgemmFp8Config", "auto-round": "AutoRoundConfig", "mxfp4": "Mxfp4Config", "gguf": "GgufConfig",
}
#: Skip-list fields, per method (the first one present is used). compressed-tensors calls it ``ignore``.
_SKIP_FIELDS = ("llm_int8_skip_modules", "modules_to_not_convert", "ignore", "ignored_layers")
#: Settings worth showing, when present (everything else stays in config.json).
_DETAIL_KEYS = (
    "bnb_4bit_quant_type", "bnb_4bit_use_double_quant", "bnb_4bit_compute_dtype", "bnb_4bit_quant_storage",
    "llm_int8_threshold", "group_size", "desc_act", "sym", "zero_point", "version", "checkpoint_format",
    "fmt", "activation_scheme", "weight_block_size", "format", "quantization_status", "nbits", "quant_type",
    "modules_in_block_to_quantize", "block_name_to_quantize", "dequantize",
)


# --------------------------------------------------------------------------- parsing
def from_checkpoint(block: Any) -> dict[str, Any] | None:
    """config.json's ``quantization_config`` as ``{method, bits, source, details, skip_modules, skip_field}``.

    >>> from_checkpoint({"quant_method": "gptq", "bits": 4, "group_size": 128})["bits"]
    4
    """
    if block is None:
        return None
    if hasattr(block, "to_dict"):  # a transformers QuantizationConfigMixin on an in-memory model
        block = block.to_dict()
    if not isinstance(block, dict):
        return {"method": "unknown", "bits": None, "source": CHECKPOINT_SOURCE, "details": {},
                "skip_modules": [], "skip_field": None,
                "unreadable": f"quantization_config is a {type(block).__name__}, not a mapping"}
    method = str(block.get("quant_method") or "").lower().replace("_", "-") if block.get("quant_method") else ""
    method = {"fbgemm-fp8": "fbgemm_fp8", "fp-quant": "fp_quant"}.get(method, method)
    if not method and (block.get("load_in_4bit") or block.get("load_in_8bit")):
        method = "bitsandbytes"  # transformers' BitsAndBytesConfig.from_dict on a pre-quant_method config
    skip_field = next((k for k in _SKIP_FIELDS if block.get(k) is not None), None)
    skip = block.get(skip_field) if skip_field else None
    return {
        "method": method or "unknown",
        "bits": _bits(method, block),
        "source": CHECKPOINT_SOURCE,
        "details": _details(method, block),
        "skip_modules": _skip_list(skip),
        "skip_field": skip_field,
    }


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
                weights = group.get("weights") if isinstance(group.get("weights"), dict) else {}
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


def _method_key(method: str, bits: int | None) -> str:
    if method == "bitsandbytes":
        return f"bitsandbytes-{bits}bit" if bits in (4, 8) else "bitsandbytes-4bit"
    return method


# --------------------------------------------------------------------------- combining
def describe(
    request: dict[str, Any] | None, checkpoint_block: Any, lora_config: dict[str, Any]
) -> dict[str, Any] | None:
    """The report's ``quantization`` object, before the adapted modules are classified.

    ``request`` is ``LoraSpec.quantization_request``; ``checkpoint_block`` is config.json's
    ``quantization_config`` (a dict, or transformers' config object on an in-memory model).
    """
    checkpoint = from_checkpoint(checkpoint_block)
    request = _normal_request(request)
    if request is None and checkpoint is None:
        return None
    if checkpoint is None:
        effective, resolution, conflict = request, "request", None
    elif request is None:
        effective, resolution, conflict = checkpoint, "checkpoint", None
    else:
        effective, resolution, conflict = checkpoint, *_merge(request, checkpoint)
    assert effective is not None
    key = _method_key(effective["method"], effective.get("bits"))
    backend = BACKENDS.get(key)
    trainable, trainable_note = _trainability(effective["method"], backend)
    out = {
        "method": effective["method"],
        "bits": effective.get("bits"),
        "source": effective["source"],
        "details": dict(effective.get("details") or {}),
        "skip_modules": list(effective.get("skip_modules") or []),
        "skip_field": effective.get("skip_field"),
        "default_skips": [],
        "request": _short(request),
        "checkpoint": _short(checkpoint),
        "resolution": resolution,
        "conflict": conflict,
        "known": backend is not None,
        "peft_layer": backend.peft_layer if backend else None,
        "peft_requires": backend.requires if backend else None,
        "note": (backend.note if backend else "") or None,
        "trainable": trainable,
        "trainable_note": trainable_note or None,
        "quantized_targets": 0,
        "unquantized_targets": [],
        "unsupported": [],
    }
    if checkpoint is not None and checkpoint.get("unreadable"):
        out["note"] = checkpoint["unreadable"]
    if backend is not None:
        out["unsupported"] = [
            {"feature": lim.feature, "value": _plain_json(lora_config.get(lim.feature)), "severity": lim.severity,
             "message": lim.message}
            for lim in backend.limits
            if lim.applies(lora_config)
        ]
    return out


def _normal_request(request: dict[str, Any] | None) -> dict[str, Any] | None:
    if not request:
        return None
    method = str(request.get("method") or "bitsandbytes").lower()
    # Framework spellings (LLaMA-Factory's quantization_method "bnb") and transformers' per-bits keys.
    method = {"bnb": "bitsandbytes", "bitsandbytes_4bit": "bitsandbytes", "bitsandbytes_8bit": "bitsandbytes",
              "qlora": "bitsandbytes"}.get(method, method)
    bits = request.get("bits")
    return {
        "method": method,
        "bits": bits if isinstance(bits, int) and not isinstance(bits, bool) else None,
        "source": str(request.get("source") or "lora config"),
        "details": {},
        "skip_modules": [str(s) for s in request.get("skip_modules") or []],
        "skip_field": request.get("skip_field"),
    }


def _merge(request: dict[str, Any], checkpoint: dict[str, Any]) -> tuple[str, dict[str, str] | None]:
    """transformers' merge_quantization_configs: the checkpoint's config is used; another class raises."""
    req_cls = CONFIG_CLASSES.get(request["method"], request["method"])
    ckpt_cls = CONFIG_CLASSES.get(checkpoint["method"], checkpoint["method"])
    if req_cls != ckpt_cls:
        return "conflict", {
            "kind": "method",
            "message": (
                f"{request['source']} asks for {_label(request)}, but the checkpoint is already quantized with "
                f"{_label(checkpoint)} ({checkpoint['source']}); transformers refuses to load it: 'The model is "
                f"quantized with {ckpt_cls} but you are passing a {req_cls} config'"
            ),
        }
    if request.get("bits") is not None and checkpoint.get("bits") is not None and request["bits"] != checkpoint["bits"]:
        return "checkpoint-wins", {
            "kind": "bits",
            "message": (
                f"{request['source']} asks for {_label(request)}, but the checkpoint is already {_label(checkpoint)} "
                f"({checkpoint['source']}); transformers uses the checkpoint's quantization_config and ignores the "
                "request"
            ),
        }
    return "agree", None


def _label(q: dict[str, Any]) -> str:
    return f"{q['method']} {q['bits']}-bit" if q.get("bits") else q["method"]


def _short(q: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if q is None else {"method": q["method"], "bits": q.get("bits"), "source": q["source"]}


def _trainability(method: str, backend: Backend | None) -> tuple[bool | None, str]:
    if method in NOT_TRAINABLE:
        return False, (f"transformers' {NOT_TRAINABLE[method]}.is_trainable is False: the Trainer refuses to "
                       "fine-tune this model (trainer_utils.validate_quantization_for_training)")
    if backend is None:
        return None, ""
    return backend.trainable, backend.trainable_note


def _plain_json(value: Any) -> Any:
    return value if value is None or isinstance(value, (str, int, float, bool)) else str(value)


# --------------------------------------------------------------------------- per module
def classify_targets(
    quantization: dict[str, Any],
    rows: list[Any],
    default_skips: list[str],
    keep_in_fp32: list[str] = (),
    saved: list[str] = (),
    types: dict[str, str] | None = None,
) -> None:
    """Split the adapted modules into those on quantized layers and those the quantizer leaves alone.

    ``rows`` are the report's AdaptedModule records. A module is quantized when its base layer is one
    of the types the quantizer replaces and no skip entry matches it (transformers' own
    ``should_convert_module``; compressed-tensors' ``match_name`` for its ``ignore`` list). GPTQ
    checkpoints quantize the decoder blocks only (``block_name_to_quantize``, else every numbered
    block), and within them ``modules_in_block_to_quantize`` when given. Each module left alone gets
    the reason. Feature limits are kept only when some adapted module is quantized.

    ``saved`` are the modules ``modules_to_save`` wraps and ``types`` the base model's module types:
    on a backend with integer weights, a saved module holding a quantized layer cannot train.
    """
    method = quantization["method"]
    key = _method_key(method, quantization.get("bits"))
    backend = BACKENDS.get(key)
    quant_types = backend.quantized_types if backend else ("Linear",)
    own_rules = method in ("compressed-tensors", "gptq")
    # transformers adds its defaults when the config gives no list (AWQ always adds them).
    uses_defaults = not own_rules and (not quantization["skip_field"] or method == "awq")
    quantization["default_skips"] = sorted(default_skips) if uses_defaults else []
    skips = [(entry, quantization["skip_field"] or "skip list") for entry in quantization["skip_modules"]]
    skips += [(entry, "transformers default") for entry in quantization["default_skips"]]
    if not own_rules:
        skips += [(entry, "keep_in_fp32_modules") for entry in keep_in_fp32]

    def why_unquantized(name: str, base_type: str, experts: int = 1) -> str | None:
        if experts > 1:
            return "fused expert parameter: the quantizer replaces Linear layers"
        if base_type not in quant_types:
            return f"{base_type} is not a layer type the quantizer replaces"
        if method == "gptq":
            outside = _outside_gptq_blocks(name, quantization["details"])
            if outside:
                return outside
        hit = next(((entry, where) for entry, where in skips if _skipped(method, name, base_type, entry)), None)
        if hit is None:
            return None
        reason = f"{hit[1]}: {hit[0]}"
        if method != "compressed-tensors" and hit[0] not in name + ".":
            reason += f" {REGEX_WIDENED}"
        return reason

    quantized = 0
    unquantized: list[dict[str, str]] = []
    for row in rows:
        reason = why_unquantized(row.name, row.base_type, row.experts)
        if reason is None:
            quantized += 1
        else:
            unquantized.append({"name": row.name, "reason": reason})
    quantization["quantized_targets"] = quantized
    quantization["unquantized_targets"] = unquantized
    if not quantized:
        quantization["unsupported"] = []
    if key in INTEGER_STORAGE and saved and types:
        stuck = [
            name for name in saved
            if any(why_unquantized(member, types[member]) is None
                   for member in types if member == name or member.startswith(name + "."))
        ]
        if stuck:
            quantization["unsupported"].append(
                {"feature": "modules_to_save", "value": ", ".join(stuck), "severity": "error",
                 "message": _SAVED_LIMIT}
            )


def _outside_gptq_blocks(name: str, details: dict[str, Any]) -> str | None:
    """Why GPTQ left ``name`` unquantized, or None: it quantizes Linear layers inside the decoder blocks."""
    block = details.get("block_name_to_quantize")
    if isinstance(block, str) and block:
        match = re.match(rf"{re.escape(block)}\.\d+\.", name)
    else:
        match = re.match(r".*?\.\d+\.", name)  # the first numbered block: model.layers.7.
    if match is None:
        return f"outside the decoder blocks GPTQ quantizes{f' ({block})' if isinstance(block, str) else ''}"
    inside = details.get("modules_in_block_to_quantize")
    if isinstance(inside, list) and inside:
        wanted = {str(m) for group in inside for m in (group if isinstance(group, list) else [group])}
        if name[match.end():] not in wanted:
            return "not in modules_in_block_to_quantize"
    return None


def _skipped(method: str, name: str, base_type: str, entry: str) -> bool:
    if method == "compressed-tensors":
        if entry.startswith("re:"):
            try:
                return re.match(entry[3:], name) is not None
            except re.error:
                return False
        return entry in (name, base_type)
    from transformers.quantizers.quantizers_utils import should_convert_module

    try:
        return not should_convert_module(name, [entry])
    except re.error:  # not a valid regex: transformers would raise at load time; compare it as a plain name
        return name == entry or name.endswith(entry)


def default_skips(model: Any) -> list[str]:
    """transformers' ``get_keys_to_not_convert``: modules its quantizers keep in full precision by default."""
    try:
        from transformers.quantizers.base import get_keys_to_not_convert

        return sorted(get_keys_to_not_convert(model))
    except Exception:  # noqa: BLE001 - not a PreTrainedModel (a plain nn.Module): no defaults
        return []
