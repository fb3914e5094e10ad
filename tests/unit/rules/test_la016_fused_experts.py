"""LA016 fused-experts: per-expert names on a model whose experts are fused 3-D parameters."""

from __future__ import annotations

from tests.factory import check, decoder, expect, layer_names, model, one, report, row, target

CODE = "LA016"
FUSED = [f"model.layers.{i}.mlp.experts.{p}" for i in range(2) for p in ("gate_up_proj", "down_proj")]
MOE = model(class_name="MixtralForCausalLM", model_type="mixtral", fused_expert_parameters=FUSED,
            moe_v4_names={"w1": "gate_up_proj", "w3": "gate_up_proj", "w2": "down_proj"})
TREE = decoder(family="Mixtral", mlp=(), extra={f"model.layers.{i}.mlp.experts": "MixtralExperts" for i in range(2)})
Q = target("q_proj", layer_names("self_attn.q_proj"))
USE = "use --target-parameters mlp.experts.gate_up_proj,mlp.experts.down_proj"


def test_fires_on_a_v4_expert_name_that_matches_nothing():
    f = one(check(report(modules=TREE, model=MOE, targets=[Q, target("w1")]), CODE))
    expect(f, CODE, "w1", "error",
           "'w1' matches nothing: MixtralForCausalLM has no per-expert modules in this transformers version; its "
           "experts are fused 3-D parameters (mlp.experts.gate_up_proj, mlp.experts.down_proj)", hint=USE)


def test_fires_on_half_a_fused_tensor_peft_refused():
    half = target("w1", dropped="w1 and w3 must be targeted together", dropped_kind="fused-experts")
    f = one(check(report(modules=TREE, model=MOE, targets=[Q, half]), CODE))
    expect(f, CODE, "w1", "error", "names one half of a fused expert tensor; PEFT cannot convert it alone",
           hint="target all fused parts together, or " + USE)


def test_a_conversion_is_info_and_the_linears_it_leaves_unadapted_a_warning():
    shared = [f"model.layers.{i}.mlp.shared_expert.down_proj" for i in range(2)]
    converted = target("down_proj", layer_names("mlp.experts.down_proj"), converted_to=["down_proj"],
                       unadapted_after_conversion=shared)
    warning, info = check(report(modules=TREE, model=MOE, targets=[Q, converted]), CODE)
    expect(warning, CODE, "down_proj", "warning",
           "PEFT converted 'down_proj' to target_parameters down_proj and dropped it from target_modules: the "
           "nn.Linear modules of that name (model.layers.(0-1).mlp.shared_expert.down_proj) are NOT adapted")
    expect(info, CODE, "down_proj", "info",
           "PEFT converted the v4 expert name 'down_proj' to target_parameters down_proj (2 fused or router "
           "parameters)")


def test_fused_expert_rows_get_their_per_expert_cost():
    rows = [row(f"model.layers.{i}.mlp.experts.down_proj", k=128, d=64, r=4, experts=8, kind="lora.ParamWrapper")
            for i in range(2)]
    f = one(check(report(modules=TREE, model=MOE, adapted=rows, targets=[Q]), CODE))
    expect(f, CODE, "model.layers.(0-1).mlp.experts.down_proj", "info",
           "8 experts x r=4: 768 LoRA parameters per expert (dense 8,192 per expert), 6,144 per tensor")


def test_quiet_on_a_dense_model():
    assert check(report(targets=[Q, target("w1")]), CODE) == []
