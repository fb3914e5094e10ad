"""LA030 quantized-feature-unsupported: a LoRA setting PEFT does not support on this quantization."""

from __future__ import annotations

from lora_audit.report import UnsupportedFeature
from tests.factory import check, expect, layer_names, one, quantization, report, target

CODE = "LA030"
TARGETS = [target("q_proj", layer_names("self_attn.q_proj"))]


def test_fires_on_a_feature_the_backend_does_not_support():
    dora = UnsupportedFeature(feature="use_dora", value=True, severity="error", message="DoRA needs ...")
    q = quantization("gptq", 4, quantized_targets=2, unsupported=[dora])
    f = one(check(report(targets=TARGETS, quantization=q), CODE))
    expect(f, CODE, "use_dora", "error",
           "PEFT 0.21.2 does not support use_dora=True on a base quantized with gptq (4-bit) (2 adapted modules are "
           "quantized): DoRA needs ...", hint="drop use_dora, or train on a base that is not gptq-quantized")


def test_a_feature_peft_only_advises_against_takes_its_severity():
    loftq = UnsupportedFeature(feature="init_lora_weights", value="loftq", severity="warning", message="LoftQ ...")
    f = one(check(report(targets=TARGETS, quantization=quantization(unsupported=[loftq])), CODE))
    expect(f, CODE, "init_lora_weights", "warning", "ignores or advises against init_lora_weights='loftq'")


def test_quiet_without_a_limit_or_a_quantization():
    assert check(report(targets=TARGETS, quantization=quantization()), CODE) == []
    assert check(report(targets=TARGETS), CODE) == []
