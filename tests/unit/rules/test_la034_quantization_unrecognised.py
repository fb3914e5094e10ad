"""LA034 quantization-unrecognised: a quantization method lora-audit has no table for."""

from __future__ import annotations

from tests.factory import check, expect, layer_names, one, quantization, report, target

CODE = "LA034"
TARGETS = [target("q_proj", layer_names("self_attn.q_proj"))]


def test_fires_on_an_unknown_method():
    q = quantization("superquant", None, known=False, trainable=None, note="a note")
    f = one(check(report(targets=TARGETS, quantization=q), CODE))
    expect(f, CODE, "quantization", "warning",
           "the base is quantized with 'superquant' (config.json: quantization_config) (a note): lora-audit does not "
           "know which LoRA features PEFT 0.21.2 supports on it")


def test_quiet_on_a_known_method_and_on_one_that_cannot_train():
    assert check(report(targets=TARGETS, quantization=quantization()), CODE) == []
    untrainable = quantization("superquant", known=False, trainable=False, trainable_note="no")  # LA033's case
    assert check(report(targets=TARGETS, quantization=untrainable), CODE) == []
