"""LA001 target-unmatched: a target entry that matches nothing, which PEFT passes over in silence."""

from __future__ import annotations

from tests.factory import check, expect, layer_names, model, one, report, target

CODE = "LA001"
Q, V = layer_names("self_attn.q_proj"), layer_names("self_attn.v_proj")


def test_fires_on_a_name_from_another_family_with_this_familys_names():
    f = one(check(report(targets=[target("q_proj", Q), target("c_attn")]), CODE))
    expect(f, CODE, "c_attn", "error",
           "target_modules entry 'c_attn' matches no module in LlamaForCausalLM; PEFT stays silent because "
           "other entries match", hint="did you mean q_proj, k_proj, v_proj? Otherwise remove 'c_attn'")


def test_fires_on_a_misspelt_name_with_the_close_spelling():
    f = one(check(report(targets=[target("v_proj", V), target("q_poj")]), CODE))
    expect(f, CODE, "q_poj", "error", hint="did you mean q_proj")


def test_fires_on_a_regex_that_matches_nothing_alone_without_the_silence_clause():
    f = one(check(report(targets=[target(r".*\.query", kind="regex")], applied=False), CODE))
    expect(f, CODE, r".*\.query", "error", r"target_modules regex '.*\\.query' matches no module in LlamaForCausalLM",
           hint="PEFT full-matches the regex against whole module names")
    assert "stays silent" not in f.message


def test_fires_on_a_target_parameter_that_names_no_parameter():
    f = one(check(report(targets=[target("q_proj", Q), target("mlp.experts.w9", kind="parameter")]), CODE))
    expect(f, CODE, "mlp.experts.w9", "error",
           "target_parameters entry 'mlp.experts.w9' matches no parameter in LlamaForCausalLM")


def test_quiet_when_every_entry_matches():
    assert check(report(targets=[target("q_proj", Q), target("v_proj", V)]), CODE) == []


def test_quiet_on_entries_other_rules_explain():
    outside_layers = target("q_proj", matched_without_layer_filter=2)  # LA011
    saved_instead = target("lm_head", excluded_by_modules_to_save=["lm_head"])  # LA015
    refused = target("model.norm", dropped="not supported", dropped_kind="unsupported-layer")  # LA004
    defaults = target("defaults", kind="defaults")  # LA002 / LA019
    r = report(targets=[target("v_proj", V), outside_layers, saved_instead, refused, defaults])
    assert check(r, CODE) == []


def test_quiet_on_a_per_expert_name_of_a_fused_experts_model():
    moe = model(fused_expert_parameters=["model.layers.0.mlp.experts.gate_up_proj"],
                moe_v4_names={"w1": "gate_up_proj"})
    assert check(report(targets=[target("q_proj", Q), target("w1")], model=moe), CODE) == []  # LA016's case


def test_quiet_on_a_text_encoder_name_of_a_diffusion_denoiser():
    unet = model(library="diffusers", class_name="UNet2DConditionModel", model_type="unet")
    tree = {"": "UNet2DConditionModel", "down_blocks.0.attentions.0.to_q": "Linear"}
    r = report(modules=tree, targets=[target("to_q", ["down_blocks.0.attentions.0.to_q"]), target("q_proj")],
               model=unet)
    assert check(r, CODE) == []  # LA050's case
