"""LA014 bias-trains-untargeted: bias="all" / "lora_only" trains biases that disabling the adapter keeps."""

from __future__ import annotations

from lora_audit.report import BiasParams
from tests.factory import check, expect, layer_names, one, report, target

CODE = "LA014"
TARGETS = [target("q_proj", layer_names("self_attn.q_proj"))]


def test_fires_on_bias_all_with_biases_outside_the_adapted_modules():
    biases = BiasParams(in_adapted=128, outside_adapted=640, outside_modules=layer_names("mlp.down_proj"))
    f = one(check(report(targets=TARGETS, lora={"bias": "all"}, bias_params=biases), CODE))
    expect(f, CODE, "bias", "info",
           'bias="all": 768 bias parameters train, 640 of them outside the adapted modules '
           "(model.layers.(0-1).mlp.down_proj); they change the base model", hint='use bias="none"')


def test_fires_on_lora_only_inside_the_adapted_modules():
    f = one(check(report(targets=TARGETS, lora={"bias": "lora_only"}, bias_params=BiasParams(in_adapted=128)), CODE))
    expect(f, CODE, "bias", "info", 'bias="lora_only": 128 bias parameters train, all inside the adapted modules')


def test_quiet_on_bias_none_or_when_no_bias_exists():
    assert check(report(targets=TARGETS, bias_params=BiasParams(in_adapted=128)), CODE) == []
    assert check(report(targets=TARGETS, lora={"bias": "all"}), CODE) == []
