"""LA029 leaf-names-reach-beyond: a framework's every-linear switch whose leaf names reach too far."""

from __future__ import annotations

from tests.factory import check, config_source, decoder, expect, layer_names, one, report, target

CODE = "LA029"
SOURCE = config_source(all_linear_key="lora_target_linear")
VLM = decoder(prefix="model.language_model", extra={
    **{f"model.visual.blocks.{i}.attn.qkv": "Linear" for i in range(2)},
    **{f"model.visual.merger.mlp.{i}": "Linear" for i in (0, 2)},
})
QKV = [f"model.visual.blocks.{i}.attn.qkv" for i in range(2)]


def test_a_numeric_leaf_name_is_a_warning():
    digit = target("0", ["model.visual.merger.mlp.0"])
    r = report(modules=VLM, targets=[digit], lora_config_source=SOURCE)
    expect(one(check(r, CODE)), CODE, "0", "warning",
           "lora_target_linear produced the leaf name '0' (a child of an nn.Sequential); as a target it matches "
           "every module named 0: model.visual.merger.mlp.0", hint="name the targets instead of lora_target_linear")


def test_names_that_reach_a_vision_tower_are_info():
    q = target("q_proj", layer_names("self_attn.q_proj", prefix="model.language_model"))
    r = report(modules=VLM, targets=[q, target("qkv", QKV)], lora_config_source=SOURCE)
    expect(one(check(r, CODE)), CODE, "model.visual", "info",
           "lora_target_linear's leaf names also reach 2 modules of model.visual (qkv): that tower trains too")


def test_quiet_without_the_frameworks_switch():
    assert check(report(modules=VLM, targets=[target("qkv", QKV), target("0", ["model.visual.merger.mlp.0"])]),
                 CODE) == []
