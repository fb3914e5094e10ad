"""LA002 nothing-adapted: PEFT created no LoRA layer at all."""

from __future__ import annotations

from tests.factory import apply_error, check, expect, layer_names, one, report, target

CODE = "LA002"


def test_fires_when_no_entry_matches_with_this_models_attention_names():
    f = one(check(report(targets=[target("c_attn"), target("c_proj")]), CODE))
    expect(f, CODE, "target_modules", "error", "nothing is adapted: no target entry matches any module of the model",
           hint="use this model's names, e.g. --targets q_proj,k_proj,v_proj,o_proj; `lora-audit MODEL --tree`")


def test_fires_when_there_are_no_defaults_for_the_model_type():
    f = one(check(report(targets=[target("defaults", kind="defaults")]), CODE))
    expect(f, CODE, "target_modules", "error",
           "no target_modules were given and PEFT has no default targets for llama",
           hint="give targets, e.g. --targets q_proj,k_proj,v_proj,o_proj")


def test_fires_when_the_layer_filter_removes_every_match():
    f = one(check(report(targets=[target("q_proj", matched_without_layer_filter=2)]), CODE))
    expect(f, CODE, "target_modules", "error", "layers_to_transform / layers_pattern filter out every match")


def test_fires_when_everything_matched_is_excluded():
    r = report(targets=[target("q_proj")], apply_error=apply_error("All modules were excluded. This is likely ..."))
    expect(one(check(r, CODE)), CODE, "target_modules", "error",
           "every module the targets match is excluded", hint="narrow exclude_modules")


def test_quiet_when_something_is_adapted():
    assert check(report(targets=[target("q_proj", layer_names("self_attn.q_proj"))]), CODE) == []
