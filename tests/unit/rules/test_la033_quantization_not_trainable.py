"""LA033 quantization-not-trainable: a quantization transformers' Trainer refuses to fine-tune."""

from __future__ import annotations

from tests.factory import check, expect, layer_names, one, quantization, report, target

CODE = "LA033"
TARGETS = [target("q_proj", layer_names("self_attn.q_proj"))]


def test_an_untrainable_quantization_is_an_error():
    q = quantization("eetq", 8, trainable=False, trainable_note="EetqHfQuantizer.is_trainable is False")
    f = one(check(report(targets=TARGETS, quantization=q), CODE))
    expect(f, CODE, "quantization", "error",
           "the base is eetq-quantized (config.json: quantization_config): EetqHfQuantizer.is_trainable is False",
           hint="fine-tune the full-precision base")


def test_a_conditional_trainability_is_info():
    q = quantization("awq", trainable=None, trainable_note="trainable with autoawq >= 0.2")
    expect(one(check(report(targets=TARGETS, quantization=q), CODE)), CODE, "quantization", "info",
           hint="check that condition on the training machine")


def test_quiet_on_a_trainable_quantization():
    assert check(report(targets=TARGETS, quantization=quantization()), CODE) == []
