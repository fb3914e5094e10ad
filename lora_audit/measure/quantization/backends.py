"""PEFT's quantization backends: which LoRA features each refuses, and how each stores its weights.

Reproduced from PEFT 0.21.2, read from the installed sources: the dispatchers in
``peft/tuners/lora/model.py`` ``_create_new_module`` and the layer classes they build,
``peft/tuners/lora/{bnb,gptq,awq,aqlm,eetq,hqq,torchao}.py`` (``__init__`` and
``resolve_lora_variant`` checks), and ``peft/tuners/lora/layer.py`` (``pissa_init``,
``corda_init``, ``olora_init``, ``mica_init`` require a float32/float16/bfloat16 weight). Whether a
method can be fine-tuned at all: transformers 5.24's ``quantizers/quantizer_*.py`` ``is_trainable``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

PEFT_VERSION_READ = "0.21.2"


_FLOAT_INITS = ("pissa", "corda", "mica")


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


SAVED_LIMIT = (
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


