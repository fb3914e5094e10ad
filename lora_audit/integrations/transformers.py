"""The one seam to transformers' private or undocumented internals.

Everything lora-audit takes from transformers beyond its public API goes through this module, so
a transformers release that moves one of these breaks one file. Each use says, in one line, the
public API transformers lacks. Verified against transformers 5.24.0 (``modeling_utils.py``,
``initialization.py``, ``models/auto/configuration_auto.py``, ``models/auto/auto_factory.py``,
``quantizers/base.py``, ``quantizers/quantizers_utils.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager
from typing import Any


def from_config(cls: Any, config: Any) -> Any:
    """The model class ``cls`` built from ``config`` (no weights loaded), as from_pretrained builds it."""
    # PreTrainedModel._from_config: only the auto classes have a public from_config
    return cls._from_config(config)


def is_known_model_type(model_type: str) -> bool:
    """Whether this transformers has a config class for ``model_type`` (without importing the model code)."""
    # CONFIG_MAPPING (models/auto/configuration_auto.py): no public "is this model_type known?" query
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING

    return model_type in CONFIG_MAPPING


def auto_model_mapping(auto_name: str) -> Mapping[Any, Any]:
    """Config class -> the model class(es) the auto class ``auto_name`` (``AutoModelForCausalLM``...) builds for it."""
    import transformers

    # _model_mapping: no public API says which class an auto class builds for a config
    return getattr(transformers, auto_name)._model_mapping


def no_init_weights() -> AbstractContextManager[Any]:
    """transformers' switch that makes torch's weight initialisers no-ops (they cost time, and meta holds no values)."""
    # transformers.initialization.no_init_weights: not documented, no public equivalent
    from transformers.initialization import no_init_weights as _no_init_weights

    return _no_init_weights()


def should_convert_module(name: str, patterns: list[str]) -> bool:
    """Whether transformers' quantizers replace module ``name`` given the skip ``patterns``."""
    # quantizers/quantizers_utils.py should_convert_module: internal to the quantizers
    from transformers.quantizers.quantizers_utils import should_convert_module as _should_convert

    return _should_convert(name, patterns)


def keys_to_not_convert(model: Any) -> list[str]:
    """The modules transformers' quantizers keep in full precision by default (raises for a plain nn.Module)."""
    # quantizers/base.py get_keys_to_not_convert: internal to the quantizers
    from transformers.quantizers.base import get_keys_to_not_convert

    return get_keys_to_not_convert(model)


def keep_in_fp32_modules(model: Any) -> list[str]:
    """The model class's ``_keep_in_fp32_modules`` (modules its quantizers also skip); empty when it has none."""
    # _keep_in_fp32_modules: a private class attribute, no public accessor
    return [str(m) for m in getattr(model, "_keep_in_fp32_modules", None) or []]
