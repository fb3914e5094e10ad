"""LA050 text-encoder-target: a text-encoder module name in a diffusion denoiser's targets."""

from __future__ import annotations

from tests.factory import check, expect, model, one, report, target

CODE = "LA050"
UNET = model(library="diffusers", class_name="UNet2DConditionModel", model_type="unet")
TREE = {"": "UNet2DConditionModel", "down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q": "Linear"}
TO_Q = target("to_q", ["down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q"])


def test_fires_on_a_clip_projection_name_on_a_unet():
    f = one(check(report(modules=TREE, model=UNET, targets=[TO_Q, target("q_proj")]), CODE))
    expect(f, CODE, "q_proj", "error",
           "'q_proj' is a text-encoder module name; UNet2DConditionModel has no such module, so this entry adapts "
           "nothing", hint="audit it with --component text_encoder")


def test_quiet_on_a_language_model_and_on_denoiser_names():
    assert check(report(targets=[target("q_proj")]), CODE) == []  # LA001's case on a transformers model
    assert check(report(modules=TREE, model=UNET, targets=[TO_Q]), CODE) == []
