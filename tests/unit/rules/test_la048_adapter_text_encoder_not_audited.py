"""LA048 adapter-text-encoder-not-audited: a diffusion LoRA's text-encoder tensors, left out of the audit."""

from __future__ import annotations

from lora_audit.report import ConversionFacts
from tests.factory import adapter, check, comparison, expect, model, one, report

CODE = "LA048"
UNET = model(library="diffusers", class_name="UNet2DConditionModel", model_type="unet")


def _conversion(source: str, keys: list[str]) -> ConversionFacts:
    return ConversionFacts(from_format=source, diffusers_version="0.42.1", function="convert", component="unet",
                           config_from="keys", file_tensors=96 + len(keys), denoiser_tensors=96,
                           text_encoder_tensors=len(keys), text_encoder_keys=keys)


def test_fires_on_the_text_encoder_tensors_of_a_kohya_file():
    keys = [f"lora_te1_text_model_encoder_layers_{i}_self_attn_q_proj.lora_down.weight" for i in range(3)]
    a = adapter(format="kohya", file="style.safetensors", config_file=None, compared=comparison(),
                conversion=_conversion("kohya", keys))
    f = one(check(report(modules={"": "UNet2DConditionModel"}, model=UNET, adapter=a), CODE))
    expect(f, CODE, "style.safetensors", "info",
           "3 text-encoder tensors (lora_te1_) are in the file but not audited against the unet (only its 96 "
           "denoiser tensors are)", hint="audit the text encoder separately")


def test_a_diffusers_file_names_its_text_encoder_prefixes():
    keys = ["text_encoder.text_model.encoder.layers.0.self_attn.q_proj.lora.down.weight",
            "text_encoder_2.text_model.encoder.layers.0.self_attn.q_proj.lora.down.weight"]
    a = adapter(format="diffusers", compared=comparison(), conversion=_conversion("diffusers", keys))
    f = one(check(report(modules={"": "UNet2DConditionModel"}, model=UNET, adapter=a), CODE))
    expect(f, CODE, "adapter/adapter_model.safetensors", "info",
           "2 text-encoder tensors (text_encoder./text_encoder_2.)")


def test_quiet_without_text_encoder_tensors():
    a = adapter(format="kohya", compared=comparison(), conversion=_conversion("kohya", []))
    assert check(report(model=UNET, adapter=a), CODE) == []
    assert check(report(adapter=adapter(compared=comparison())), CODE) == []
