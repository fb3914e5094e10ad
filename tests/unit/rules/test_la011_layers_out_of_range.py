"""LA011 layers-out-of-range: layers_to_transform indices or a layers_pattern the model does not have."""

from __future__ import annotations

from tests.factory import check, expect, layer_names, one, report, target

CODE = "LA011"
Q = target("q_proj", layer_names("self_attn.q_proj")[:1], matched_without_layer_filter=2)


def test_fires_on_indices_past_the_last_block():
    f = one(check(report(targets=[Q], lora={"layers_to_transform": [0, 5, 6]}), CODE))
    expect(f, CODE, "layers_to_transform", "error",
           "layers 5-6 do not exist (model.layers has 0-1): those indices select nothing",
           hint="use indices within 0-1")


def test_fires_on_a_layers_pattern_that_names_no_container():
    f = one(check(report(targets=[Q], lora={"layers_to_transform": [0], "layers_pattern": "blocks"}), CODE))
    expect(f, CODE, "layers_pattern", "error",
           "layers_pattern ['blocks'] names no layer container of the model (its containers: layers)",
           hint="use one of: layers")


def test_quiet_on_existing_layers_and_without_a_filter():
    assert check(report(targets=[Q], lora={"layers_to_transform": [1], "layers_pattern": "layers"}), CODE) == []
    assert check(report(targets=[Q]), CODE) == []
