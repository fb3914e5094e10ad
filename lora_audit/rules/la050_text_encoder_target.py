"""A diffusion denoiser's target list names text-encoder modules, which the denoiser does not have.

What it checks
--------------
On a diffusers model (a UNet or diffusion transformer), each ``target_modules`` entry that
matches nothing and is a module name of the pipelines' text encoders: CLIP's ``q_proj``,
``k_proj``, ``v_proj``, ``out_proj``, ``fc1``, ``fc2``, T5's ``q``, ``k``, ``v``, ``o``,
``wi_0``, ``wi_1``, ``wo``, or a path through ``text_model`` / ``text_encoder``.

Why it matters
--------------
The text encoder is a separate model with its own LoRA config: diffusers' training scripts add
one (``["q_proj", "k_proj", "v_proj", "out_proj"]``) only with ``--train_text_encoder``
(``train_dreambooth_lora_sdxl.py`` / ``train_dreambooth_lora_flux.py``, diffusers commit
58eb52c). Text-encoder names in the denoiser's list adapt nothing, and PEFT stays silent as long
as another entry matches: the run trains no text encoder although the config seems to say so.

Example
-------
::

    lora-audit stabilityai/stable-diffusion-xl-base-1.0 --targets to_k,to_q,to_v,to_out.0,q_proj,v_proj
    # LA050 q_proj: a text-encoder module name; UNet2DConditionModel has no such module

Fix
---
Remove the text-encoder names from the denoiser's targets. To train the text encoder, give it its
own LoRA config (diffusers: ``--train_text_encoder``) and audit that with ``--component
text_encoder`` on the pipeline.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from lora_audit.naming import leaf
from lora_audit.report import Report
from lora_audit.rules._base import Problem

CODE = "LA050"
NAME = "text-encoder-target"
SEVERITY = "error"

#: Linear layer names of CLIPTextModel(WithProjection) and T5EncoderModel, the diffusion text encoders.
TEXT_ENCODER_NAMES = frozenset({"q_proj", "k_proj", "v_proj", "out_proj", "fc1", "fc2",
                                "q", "k", "v", "o", "wi", "wi_0", "wi_1", "wo"})


def text_encoder_entry(pattern: str, report: Report) -> bool:
    """True when ``pattern`` names a text-encoder module on a diffusers denoiser."""
    if report.model.library != "diffusers":
        return False
    parts = pattern.split(".")
    return leaf(pattern) in TEXT_ENCODER_NAMES or any(p in ("text_model", "text_encoder", "text_encoder_2")
                                                         for p in parts)


def check(report: Report, options: dict[str, Any]) -> Iterator[Problem]:
    for target in report.targets:
        if target.kind != "name" or target.matched or target.dropped or not text_encoder_entry(target.pattern, report):
            continue
        yield Problem(
            subject=target.pattern,
            message=(
                f"{target.pattern!r} is a text-encoder module name; {report.model.class_name} has no such module, "
                "so this entry adapts nothing (the text encoder is a separate model with its own LoRA config)"
            ),
            hint=(
                f"remove {target.pattern!r} from the denoiser's targets; to train the text encoder give it its own "
                "config (diffusers: --train_text_encoder) and audit it with --component text_encoder"
            ),
        )
