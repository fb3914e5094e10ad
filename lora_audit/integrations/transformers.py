"""The one seam to transformers' private or undocumented internals.

Everything lora-audit takes from transformers beyond its public API goes through this module, so
a transformers release that moves one of these breaks one file. Each use says, in one line, the
public API transformers lacks. Verified against transformers 5.24.0 (``modeling_utils.py``,
``initialization.py``, ``models/auto/configuration_auto.py``, ``models/auto/auto_factory.py``,
``quantizers/base.py``, ``quantizers/quantizers_utils.py``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager
from typing import Any


def from_config(cls: Any, config: Any, **kwargs: Any) -> Any:
    """The model class ``cls`` built from ``config`` (no weights loaded), as from_pretrained builds it.

    ``kwargs`` are from_pretrained's model options (``dtype``, ``attn_implementation``).
    """
    # PreTrainedModel._from_config: only the auto classes have a public from_config
    return cls._from_config(config, **kwargs)


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


@contextlib.contextmanager
def fake_tensors_take_the_real_mask_path() -> Iterator[None]:
    """Make transformers build the attention mask for fake tensors as it does for real ones.

    ``masking_utils`` treats a FakeTensor as tracing and then never skips the causal mask: SDPA gets an
    explicit mask (and repeated KV heads) that the real run on an unpadded batch does not build
    (+0.28% on the peak). Inside this block a fake tensor is not tracing, a fake padding mask is all
    ones, and fake position ids hold one sequence per row, as in the real unpadded run.
    """
    # masking_utils.is_tracing / fast_all / find_packed_sequence_indices: internal helpers, no switch
    import transformers.masking_utils as masking
    from torch._subclasses.fake_tensor import FakeTensor

    saved = masking.is_tracing, masking.fast_all, masking.find_packed_sequence_indices

    def is_tracing(tensor: Any = None) -> bool:
        return False if isinstance(tensor, FakeTensor) else saved[0](tensor)

    def fast_all(tensor: Any) -> bool:
        return True if isinstance(tensor, FakeTensor) else saved[1](tensor)

    def find_packed(position_ids: Any) -> Any:
        return None if isinstance(position_ids, FakeTensor) else saved[2](position_ids)

    masking.is_tracing, masking.fast_all, masking.find_packed_sequence_indices = is_tracing, fast_all, find_packed
    try:
        yield
    finally:
        masking.is_tracing, masking.fast_all, masking.find_packed_sequence_indices = saved
