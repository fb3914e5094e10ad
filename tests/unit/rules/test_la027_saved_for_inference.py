"""LA027 saved-for-inference: a saved adapter (inference_mode: true), audited as training loads it."""

from __future__ import annotations

from tests.factory import check, config_source, expect, layer_names, one, report, target

CODE = "LA027"
TARGETS = [target("q_proj", layer_names("self_attn.q_proj"))]


def test_fires_on_a_config_saved_for_inference():
    source = config_source(format="peft", file="adapter/adapter_config.json", saved_for_inference=True)
    f = one(check(report(targets=TARGETS, lora_config_source=source), CODE))
    expect(f, CODE, "inference_mode", "info", "the adapter was saved for inference (inference_mode: true)",
           hint="PeftModel.from_pretrained(model, path, is_trainable=True)")


def test_quiet_on_a_training_config():
    assert check(report(targets=TARGETS, lora_config_source=config_source(format="peft")), CODE) == []
