"""The one seam to PEFT's private internals.

Everything lora-audit takes from PEFT beyond its public API goes through this module, so a PEFT
release that moves one of these breaks one file, and the tests that call each function say which.
Verified against PEFT 0.21.2.
"""

from __future__ import annotations

from typing import Any


def check_target_module_exists(config: Any, key: str) -> Any:
    """PEFT's own target matching for one module (or parameter) name."""
    from peft.tuners.tuners_utils import check_target_module_exists as _check

    return _check(config, key)


def include_all_linear_layers(config: Any, model: Any) -> Any:
    """PEFT's expansion of ``all-linear`` into leaf names (``_maybe_include_all_linear_layers``)."""
    from peft.tuners.tuners_utils import _maybe_include_all_linear_layers

    return _maybe_include_all_linear_layers(config, model)


def moe_conversion_table(model_type: str) -> dict[str, str]:
    """PEFT's table of transformers-v4 expert names and the fused v5 parameter each became."""
    try:
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
    from peft.utils.other import _set_trainable

    _set_trainable(root, adapter, module_names=[entry], inference_mode=False,
                   wrapper_cls=wrapper_cls,  # type: ignore[arg-type]  # PEFT annotates an instance; it takes the class
                   activate_adapter=False)


def create_new_module(config: Any, adapter: str, module: Any, **kwargs: Any) -> Any:
    """PEFT's LoRA layer factory (``LoraModel._create_new_module``), on empty weights."""
    from peft.tuners.lora import LoraModel
    from peft.utils.integrations import init_empty_weights

    with init_empty_weights():
        return LoraModel._create_new_module(config, adapter, module, **kwargs)
