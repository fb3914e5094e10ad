"""The one seam to PEFT's private internals.

Everything lora-audit takes from PEFT beyond its public API goes through this module, so a PEFT
release that moves one of these breaks one file, and the tests that call each function say which.
Each use says, in one line, the public API PEFT lacks. Verified against PEFT 0.21.2
(``peft/tuners/tuners_utils.py``, ``peft/tuners/lora/model.py``, ``peft/utils/other.py``,
``peft/utils/transformers_weight_conversion.py``).
"""

from __future__ import annotations

import ast
import functools
import importlib.util
import re
from pathlib import Path
from typing import Any

from lora_audit.guards.files import read_regular_text


def check_target_module_exists(config: Any, key: str) -> Any:
    """PEFT's own target matching for one module (or parameter) name."""
    return _matcher()[0](config, key)


def target_module_matched(config: Any, key: str) -> bool:
    """Whether PEFT's matching adapts ``key``: a match that ``exclude_modules`` does not take back."""
    check, excluded = _matcher()
    result = check(config, key)
    return bool(result) and not isinstance(result, excluded)


@functools.cache
def _matcher() -> tuple[Any, type]:
    """Imported once: matching runs for every module name of the model, for every entry."""
    # check_target_module_exists (peft.tuners.tuners_utils): not exported from peft, no other public matcher;
    # _ExcludedModule: the truthy marker of an excluded match, PEFT has no public "is excluded" test
    from peft.tuners.tuners_utils import _ExcludedModule
    from peft.tuners.tuners_utils import check_target_module_exists as check

    return check, _ExcludedModule


def include_all_linear_layers(config: Any, model: Any) -> Any:
    """PEFT's expansion of ``all-linear`` into leaf names (``_maybe_include_all_linear_layers``)."""
    # _maybe_include_all_linear_layers: no public function resolves all-linear without injecting
    from peft.tuners.tuners_utils import _maybe_include_all_linear_layers

    return _maybe_include_all_linear_layers(config, model)


def default_target_modules(model_type: str, method: str = "LORA") -> Any:
    """The target_modules PEFT falls back on for ``model_type`` when a config names none (None: it has none)."""
    # <Tuner>.target_module_mapping (LoraModel's, LoHaModel's...): the table get_peft_model reads; PEFT exports
    # no lookup of the defaults
    mapping = getattr(_tuner_class(method), "target_module_mapping", None) or {}
    return mapping.get(model_type)


def adapter_prefix(method: str) -> str | None:
    """The prefix of the parameters a method's layers create (``hada_``, ``ia3_``, ``lora_``)."""
    # <Tuner>.prefix: how PEFT itself tells adapter parameters apart; no public accessor
    return getattr(_tuner_class(method), "prefix", None)


def _tuner_class(method: str) -> Any:
    """The tuner class PEFT's get_peft_model uses for ``method`` (``peft.PEFT_TYPE_TO_TUNER_MAPPING``)."""
    from peft import PEFT_TYPE_TO_TUNER_MAPPING

    return next((cls for key, cls in PEFT_TYPE_TO_TUNER_MAPPING.items()
                 if str(getattr(key, "value", key)) == method), None)


def moe_conversion_table(model_type: str) -> dict[str, str]:
    """PEFT's table of transformers-v4 expert names and the fused v5 parameter each became."""
    try:
        # _MODEL_TO_CONVERSION_PATTERN, _MOE_TARGET_MODULE_MAPPING: private tables, no public accessor
        from peft.utils.transformers_weight_conversion import (
            _MODEL_TO_CONVERSION_PATTERN,
            _MOE_TARGET_MODULE_MAPPING,
        )
    except ImportError:  # an older/newer PEFT without the conversion
        return {}
    base = _MODEL_TO_CONVERSION_PATTERN.get(model_type)
    if base is None:
        return {}
    return dict(_MOE_TARGET_MODULE_MAPPING.get(base, {}) or {})


def set_trainable(root: Any, adapter: str, entry: str, wrapper_cls: type) -> None:
    """PEFT's ``modules_to_save`` wrapping logic (``_set_trainable``), with a wrapper class of ours."""
    # _set_trainable: no public function says which modules a modules_to_save entry wraps
    from peft.utils.other import _set_trainable

    _set_trainable(root, adapter, module_names=[entry], inference_mode=False,
                   wrapper_cls=wrapper_cls,  # type: ignore[arg-type]  # PEFT annotates an instance; it takes the class
                   activate_adapter=False)


def restore_modules(root: Any, modules: dict[str, Any]) -> None:
    """Undo :func:`set_trainable` on a skeleton: every module PEFT replaced goes back where it was.

    ``modules`` is ``dict(root.named_modules(remove_duplicate=False))`` taken before; outermost
    first, so inner paths exist again by the time they are restored.
    """
    for name, module in modules.items():
        if not name:
            continue
        parent_name, _, leaf = name.rpartition(".")
        parent = root.get_submodule(parent_name) if parent_name else root
        # torch's Module._modules: getattr/setattr would also reach (or refuse) attributes of nn.Module itself
        if parent._modules.get(leaf) is not module:
            parent._modules[leaf] = module


def is_modules_to_save_wrapper(module: Any) -> bool:
    """A full trainable copy PEFT made for a ``modules_to_save`` entry."""
    return isinstance(module, _wrapper_classes()[0])


def is_peft_wrapper(module: Any) -> bool:
    """A module PEFT put in place of the base's: a tuner layer (lora.Linear...) or a trainable-copy wrapper."""
    return isinstance(module, _wrapper_classes()[1:])


@functools.cache
def _wrapper_classes() -> tuple[type, type, type]:
    """Imported once: the helpers above run for every module of the model."""
    from peft.tuners.tuners_utils import BaseTunerLayer

    # ModulesToSaveWrapper, AuxiliaryTrainingWrapper (peft.utils.other): exported from peft.utils, not documented
    from peft.utils.other import AuxiliaryTrainingWrapper, ModulesToSaveWrapper

    return ModulesToSaveWrapper, BaseTunerLayer, AuxiliaryTrainingWrapper


def type_label(cls: type) -> str:
    """``lora.Linear``, ``loha.Linear``... for PEFT's tuner layer classes (they share names with torch's), else the
    class name."""
    # the module PEFT defines its tuners' layers in (peft.tuners.<method>.layer): no public attribute names it
    parts = cls.__module__.split(".")
    if len(parts) >= 3 and parts[:2] == ["peft", "tuners"] and parts[2] != "tuners_utils":
        return f"{parts[2]}.{cls.__name__}"
    return cls.__name__


def pattern_key(keys: list[str], name: str) -> str:
    """The ``rank_pattern`` / ``alpha_pattern`` key PEFT applies to module ``name`` (keys tried in PEFT's order)."""
    # peft.utils.other.get_pattern_key: not exported, no public equivalent
    from peft.utils.other import get_pattern_key

    return get_pattern_key(keys, name)


def create_new_module(config: Any, adapter: str, module: Any, target_name: str) -> Any:
    """PEFT's LoRA layer factory (``LoraModel._create_new_module``) for ``module``, on empty weights."""
    from peft.tuners.lora import LoraModel

    # init_empty_weights: peft.utils.integrations, not exported
    from peft.utils.integrations import init_empty_weights

    # the keyword arguments LoraModel._create_and_replace passes (PEFT 0.21.2): the factory has no public form
    kwargs = dict(
        r=config.r,
        lora_alpha=config.lora_alpha,
        target_name=target_name,
        loaded_in_8bit=False,
        loaded_in_4bit=False,
        ephemeral_gpu_offload=False,
        parameter_name=None,
        tied_adapter={},
        device_map=None,
    )
    with init_empty_weights():
        # _create_new_module: PEFT has no public "can LoRA wrap this layer?" check
        return LoraModel._create_new_module(config, adapter, module, **kwargs)


# --------------------------------------------------------------------------- PEFT's refusals, by their words
# PEFT raises ValueError / TypeError with a sentence for each refusal, and no exception type or code says
# which: these regexes over its words (PEFT 0.21.2, tuners/lora/model.py, tuners/tuners_utils.py,
# utils/transformers_weight_conversion.py, utils/other.py) are the only way to tell them apart.
_UNSUPPORTED = re.compile(r"Target module .* is not supported", re.S)
_DORA = re.compile(r"does not (support|work with) (DoRA|use_dora)", re.I)
_FUSED = re.compile(r"Cannot convert PEFT target\(s\) (?P<present>.+?) without also targeting (?P<missing>.+?) because")
_SAVED_ON_LORA = re.compile(r"modules_to_save cannot be applied to modules of type")
_MODULE_REPR = re.compile(r"Target module (\w+)\(.*\) is not supported")


def peft_text(exc: BaseException, limit: int = 400) -> str:
    """PEFT's message on one line, cut short: some embed a module's repr or a C++ stack trace.

    A refused layer's repr (``Target module Qwen2VLVisionBlock( ...every child... ) is not supported``)
    is cut to its class name, so the reason PEFT gives survives the cut.
    """
    text = _full_text(exc)
    text = _MODULE_REPR.sub(lambda m: f"Target module {m.group(1)} is not supported", text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _full_text(exc: BaseException) -> str:
    """PEFT's whole message on one line: what its refusals are recognised by, before any cut."""
    return " ".join(str(exc).split()) or type(exc).__name__


def unconverted_experts(exc: BaseException) -> set[str] | None:
    """The v4 expert names PEFT refused to convert without their partner (half a fused pair), or None."""
    fused = _FUSED.search(peft_text(exc))
    if not fused:
        return None
    return {t.strip() for t in fused.group("present").split(",")}


def layer_refusal(exc: BaseException) -> str | None:
    """``dora-unsupported`` or ``unsupported-layer`` when PEFT refused to wrap a layer, else None."""
    message = _full_text(exc)
    if _DORA.search(message):
        return "dora-unsupported"
    if _UNSUPPORTED.search(message):
        return "unsupported-layer"
    return None


def refused_on_param_wrapper(exc: BaseException) -> bool:
    """The refusal names ``lora.ParamWrapper``: the layer of ``target_parameters`` entries."""
    return "ParamWrapper" in peft_text(exc)


def refused_saved_on_lora(exc: BaseException) -> bool:
    """PEFT refused a ``modules_to_save`` entry that wraps a module it had given a LoRA layer."""
    return bool(_SAVED_ON_LORA.search(peft_text(exc)))


def move_adapters_as_on_real_weights(peft_model: Any, adapter: str) -> int:
    """What PEFT's ``_move_adapter_to_device_of_base_layer`` does on real weights and skips on meta.

    PEFT 0.21.2 (``peft/tuners/tuners_utils.py``, ``BaseTunerLayer._move_adapter_to_device_of_base_layer``)
    re-assigns every adapter tensor of ``adapter_layer_names + other_param_names`` cast to the base layer's
    floating dtype, and skips any holder with a tensor on meta. An ``nn.ParameterDict`` wraps the cast tensor
    as a new ``Parameter``, trainable: AdaLoRA's frozen ``ranknum`` turns trainable under a bf16 base (4 more
    parameters on a 2-layer q,v model, as ``get_nb_trainable_parameters`` says on real weights). This runs the
    same re-wrap for the holders PEFT skipped, for ParameterDicts only (a ModuleDict's ``.to`` is in place,
    and a BufferDict holds no parameter). Returns the parameters it made trainable.
    """
    import torch
    from peft.tuners.tuners_utils import BaseTunerLayer
    from torch import nn

    made_trainable = 0
    for module in peft_model.modules():
        if not isinstance(module, BaseTunerLayer):
            continue
        # _get_base_layer_device_and_dtype: PEFT's own reading of the base layer's dtype
        base = module.get_base_layer()
        base = base.out_proj if isinstance(base, nn.MultiheadAttention) else base
        _, dtype = module._get_base_layer_device_and_dtype(base)
        if dtype is None or not (dtype.is_floating_point or dtype.is_complex):
            continue
        for name in (*module.adapter_layer_names, *module.other_param_names):
            holder = getattr(module, name, None)
            if not isinstance(holder, nn.ParameterDict) or adapter not in holder:
                continue
            item = holder[adapter]
            if isinstance(item, torch.Tensor) and (item.dtype.is_floating_point or item.dtype.is_complex) \
                    and item.dtype != dtype:
                # The new Parameter PEFT's re-assignment makes; its dtype stays, as get_peft_model's
                # autocast_adapter_dtype (default True) casts a bf16/fp16 adapter tensor back to float32.
                made_trainable += 0 if item.requires_grad else item.numel()
                holder[adapter] = nn.Parameter(item.detach(), requires_grad=True)
    return made_trainable


#: Where PEFT 0.21.2 declares LoraConfig's dataclass fields: the class and the bases it inherits them from.
_LORA_CONFIG_SOURCES = (("config.py", ("PeftConfigMixin", "PeftConfig")), ("tuners/lora/config.py", ("LoraConfig",)))
#: Fields any LoraConfig has: a reading that lacks one is of a PEFT laid out differently, and not used.
_LORA_CORE_FIELDS = {"r", "lora_alpha", "target_modules", "peft_type", "task_type"}
_SOURCE_LIMIT = 2 * 1024 * 1024


@functools.cache
def lora_field_names_from_source() -> frozenset[str] | None:
    """LoraConfig's field names read from the installed PEFT's source with ``ast``, without importing PEFT.

    Importing peft imports torch (5-7 s); deciding that a file is no LoRA config at all (``check`` skips
    it) needs only these names. Read as ``dataclasses.fields(LoraConfig)`` sees them: the annotated
    assignments of ``LoraConfig`` and its dataclass bases (PEFT 0.21.2 ``peft/config.py``,
    ``peft/tuners/lora/config.py``), ``ClassVar`` aside. A test checks the two agree. None when the
    source is laid out otherwise (the caller then imports PEFT).
    """
    spec = importlib.util.find_spec("peft")
    if spec is None or not spec.submodule_search_locations:
        return None
    root = Path(next(iter(spec.submodule_search_locations)))
    names: set[str] = set()
    for relative, classes in _LORA_CONFIG_SOURCES:
        try:
            tree = ast.parse(read_regular_text(root / relative, _SOURCE_LIMIT))
        except (OSError, SyntaxError, ValueError):
            return None
        defined = {node.name: node for node in tree.body if isinstance(node, ast.ClassDef)}
        for name in classes:
            if name not in defined:
                return None
            for statement in defined[name].body:
                if (isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name)
                        and "ClassVar" not in ast.unparse(statement.annotation)):
                    names.add(statement.target.id)
    return frozenset(names) if names >= _LORA_CORE_FIELDS else None
