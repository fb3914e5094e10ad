"""LA017 router-adapted: LoRA on an MoE router (the gate beside the experts)."""

from __future__ import annotations

from tests.factory import check, decoder, expect, layer_names, one, report, target

CODE = "LA017"
TREE = decoder(family="Mixtral", mlp=("gate",),
               extra={f"model.layers.{i}.mlp.experts.0.w1": "Linear" for i in range(2)})


def test_fires_on_the_router_of_an_moe_block():
    f = one(check(report(modules=TREE, targets=[target("gate", layer_names("mlp.gate"))]), CODE))
    expect(f, CODE, "model.layers.(0-1).mlp.gate", "warning",
           "the MoE router is adapted (2 module(s), lora.Linear): it decides which experts see each token")


def test_quiet_on_a_glu_gate_projection_and_a_gate_without_experts():
    assert check(report(targets=[target("gate_proj", layer_names("mlp.gate_proj"))]), CODE) == []
    dense = decoder(mlp=("gate",))
    assert check(report(modules=dense, targets=[target("gate", layer_names("mlp.gate"))]), CODE) == []
