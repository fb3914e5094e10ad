"""The one seam to diffusers' private LoRA conversion internals.

Everything lora-audit takes from diffusers beyond its public API goes through this module, so a
diffusers release that moves one of these breaks one file. Verified against diffusers 0.42.1:
``diffusers/loaders/lora_conversion_utils.py`` (``_convert_non_diffusers_lora_to_diffusers``,
``_convert_kohya_flux_lora_to_diffusers``) and ``diffusers/utils/peft_utils.py`` (``get_peft_kwargs``).
"""

from __future__ import annotations

from typing import Any


def convert_non_diffusers_sd(state_dict: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """kohya SD 1.x / SDXL keys -> diffusers keys and network alphas (``StableDiffusionXLPipeline.lora_state_dict``)."""
    from diffusers.loaders.lora_conversion_utils import _convert_non_diffusers_lora_to_diffusers

    return _convert_non_diffusers_lora_to_diffusers(state_dict)


def convert_kohya_flux(state_dict: dict[str, Any]) -> dict[str, Any]:
    """kohya FLUX.1 keys -> diffusers ``transformer.`` keys (alpha folded in), as ``FluxPipeline.lora_state_dict``."""
    from diffusers.loaders.lora_conversion_utils import _convert_kohya_flux_lora_to_diffusers

    return _convert_kohya_flux_lora_to_diffusers(state_dict)


def peft_kwargs(
    rank: dict[str, int], network_alphas: dict[str, Any] | None, state_dict: dict[str, Any]
) -> dict[str, Any]:
    """The LoraConfig fields diffusers derives from a converted state dict (``_create_lora_config``)."""
    from diffusers.utils.peft_utils import get_peft_kwargs

    return get_peft_kwargs(rank, network_alphas, state_dict, is_unet=True)
