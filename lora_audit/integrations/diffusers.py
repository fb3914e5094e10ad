"""The one seam to diffusers' private LoRA conversion internals.

Everything lora-audit takes from diffusers beyond its public API goes through this module, so a
diffusers release that moves one of these breaks one file. Verified against diffusers 0.42.1:
``diffusers/loaders/lora_conversion_utils.py`` (``_convert_non_diffusers_lora_to_diffusers``,
``_convert_kohya_flux_lora_to_diffusers``), ``diffusers/utils/peft_utils.py`` (``get_peft_kwargs``) and
``diffusers/utils/state_dict_utils.py`` (``convert_unet_state_dict_to_peft``). Each use says, in one
line, the public API diffusers lacks.
"""

from __future__ import annotations

from typing import Any


def convert_non_diffusers_sd(state_dict: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """kohya SD 1.x / SDXL keys -> diffusers keys and network alphas (``StableDiffusionXLPipeline.lora_state_dict``)."""
    # private: lora_state_dict converts and loads in one step, with no public conversion alone
    from diffusers.loaders.lora_conversion_utils import _convert_non_diffusers_lora_to_diffusers

    return _convert_non_diffusers_lora_to_diffusers(state_dict)


def convert_kohya_flux(state_dict: dict[str, Any]) -> dict[str, Any]:
    """kohya FLUX.1 keys -> diffusers ``transformer.`` keys (alpha folded in), as ``FluxPipeline.lora_state_dict``."""
    # private: lora_state_dict converts and loads in one step, with no public conversion alone
    from diffusers.loaders.lora_conversion_utils import _convert_kohya_flux_lora_to_diffusers

    return _convert_kohya_flux_lora_to_diffusers(state_dict)


def peft_kwargs(
    rank: dict[str, int], network_alphas: dict[str, Any] | None, state_dict: dict[str, Any]
) -> dict[str, Any]:
    """The LoraConfig fields diffusers derives from a converted state dict (``_create_lora_config``)."""
    # get_peft_kwargs: not documented; load_lora_adapter derives the config without returning it
    from diffusers.utils.peft_utils import get_peft_kwargs

    return get_peft_kwargs(rank, network_alphas, state_dict, is_unet=True)


def convert_unet_to_peft(state_dict: dict[str, Any]) -> dict[str, Any]:
    """diffusers' older LoRA key names (``.lora.down.weight``) as PEFT's (``.lora_A.weight``), as load_lora_adapter."""
    # convert_unet_state_dict_to_peft: exported from diffusers.utils, not documented
    from diffusers.utils import convert_unet_state_dict_to_peft

    return convert_unet_state_dict_to_peft(state_dict)


def needs_tensor_values(exc: BaseException) -> bool:
    """A conversion failed because it reads tensor values, which meta tensors do not hold."""
    # diffusers raises a plain error (the Flux split-qkv sparsity check compares values): only its words say so
    return "meta" in str(exc)
