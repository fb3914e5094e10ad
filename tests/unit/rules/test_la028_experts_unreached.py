"""LA028 experts-unreached: "every linear layer" on an MoE model whose experts are fused parameters."""

from __future__ import annotations

from tests.factory import check, config_source, decoder, expect, layer_names, model, one, report, row, target

CODE = "LA028"
FUSED = [f"model.layers.{i}.mlp.experts.{p}" for i in range(2) for p in ("gate_up_proj", "down_proj")]
MOE = model(class_name="MixtralForCausalLM", fused_expert_parameters=FUSED)
TREE = decoder(family="Mixtral", mlp=(), extra={f"model.layers.{i}.mlp.experts": "MixtralExperts" for i in range(2)})
ALL_LINEAR = [target("all-linear", layer_names("self_attn.q_proj"), kind="all-linear")]


def test_fires_on_all_linear_that_leaves_every_expert_out():
    f = one(check(report(modules=TREE, model=MOE, targets=ALL_LINEAR), CODE))
    expect(f, CODE, "all-linear", "warning",
           "adapted 2 modules but no expert of MixtralForCausalLM: its experts are fused 3-D parameters "
           "(mlp.experts.gate_up_proj, mlp.experts.down_proj), which Linear-module names cannot reach; 2,048 "
           "trainable of 1,000,000, all outside the experts",
           hint="to train the experts, add target_parameters: [mlp.experts.gate_up_proj, mlp.experts.down_proj]")


def test_names_the_frameworks_own_keys():
    source = config_source(all_linear_key="lora_target_linear",
                           field_keys={"target_parameters": "lora_target_parameters"})
    targets = [target("q_proj", layer_names("self_attn.q_proj"))]
    r = report(modules=TREE, model=MOE, targets=targets, lora_config_source=source, lora={"lora_dropout": 0.05})
    expect(one(check(r, CODE)), CODE, "lora_target_linear", "warning",
           hint="add lora_target_parameters: [mlp.experts.gate_up_proj, mlp.experts.down_proj] with lora_dropout: 0")


def test_quiet_when_an_expert_is_adapted_or_the_model_is_dense():
    experts = row("model.layers.0.mlp.experts.down_proj", k=128, d=64, experts=8, kind="lora.ParamWrapper")
    rows = [row(name) for name in layer_names("self_attn.q_proj")] + [experts]
    assert check(report(modules=TREE, model=MOE, targets=ALL_LINEAR, adapted=rows), CODE) == []
    assert check(report(targets=ALL_LINEAR), CODE) == []
