"""A diffusion LoRA file also holds text-encoder tensors, which are not audited against the denoiser.

What it checks
--------------
A kohya-ss diffusion LoRA (``lora_unet_...`` / ``lora_te_...`` keys) is converted with diffusers'
own conversion, and a diffusers pipeline LoRA (``pytorch_lora_weights.safetensors``) is read as
``load_lora_weights`` reads it; the denoiser keys (``unet.`` / ``transformer.``) are checked
against the base audited. The text-encoder keys (``lora_te_``, ``lora_te1_``, ``lora_te2_``;
``text_encoder.``, ``text_encoder_2.``) belong to another pipeline component: this rule names how
many there are.

Why it matters
--------------
The audit covers the denoiser only; the text-encoder part of the file is present and loads into
the pipeline's text encoder(s), but its keys and shapes were not checked here. Nothing is
dropped silently.

Example
-------
::

    # on an adapter of your own (not bundled: the rule's tests build one)
    lora-audit ./sdxl-unet --adapter ./style.safetensors
    # LA048 style.safetensors: 264 text-encoder tensors (lora_te1_/lora_te2_) not audited against the unet

Fix
---
Nothing to fix. To check the text-encoder part, audit the pipeline's text encoder with a LoRA
config for it, or save the LoRA with diffusers (``save_lora_weights``) and audit each component.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from lora_audit.report import Report
from lora_audit.rules._base import Problem

CODE = "LA048"
NAME = "adapter-text-encoder-not-audited"
SEVERITY = "info"


def check(report: Report, options: dict[str, Any]) -> Iterator[Problem]:
    adapter = report.adapter
    conversion = adapter.conversion if adapter is not None else None
    if adapter is None or conversion is None or not conversion.text_encoder_tensors:
        return
    count = conversion.text_encoder_tensors
    prefixes = sorted({k.split(".", 1)[0] + "." if conversion.from_format == "diffusers"
                       else "_".join(k.split("_", 2)[:2]) + "_" for k in conversion.text_encoder_keys})
    yield Problem(
        subject=adapter.file,
        message=f"{count:,} text-encoder tensors ({'/'.join(prefixes)}) are in the file but not audited against "
        f"the {conversion.component} (only its {conversion.denoiser_tensors:,} denoiser tensors are)",
        hint="audit the text encoder separately, or save the LoRA with diffusers' save_lora_weights() and audit "
        "each component",
    )
