"""LA015 adapted-and-saved: a module named by a target entry and by modules_to_save."""

from __future__ import annotations

from tests.factory import check, expect, layer_names, one, report, saved, target

CODE = "LA015"
Q = target("q_proj", layer_names("self_attn.q_proj"))


def test_fires_when_peft_copies_a_targeted_module_instead_of_adapting_it():
    head = target("lm_head", excluded_by_modules_to_save=["lm_head"])
    r = report(targets=[Q, head], modules_to_save=[saved("lm_head", ["lm_head"], params=64_000)])
    expect(one(check(r, CODE)), CODE, "lm_head", "warning",
           "lm_head is named by target entry 'lm_head' and by modules_to_save: PEFT copies it in full and does not "
           "adapt it", hint="keep the module in one list")


def test_an_entry_peft_refused_is_an_error():
    refused = saved("q_proj", layer_names("self_attn.q_proj"), dropped="modules_to_save cannot be applied to ...")
    f = one(check(report(targets=[Q], modules_to_save=[refused]), CODE))
    expect(f, CODE, "q_proj", "error",
           "modules_to_save entry 'q_proj' wraps model.layers.(0-1).self_attn.q_proj, which a target entry also "
           "adapts: get_peft_model raises (audited without this entry)")


def test_quiet_when_the_lists_are_apart():
    assert check(report(targets=[Q], modules_to_save=[saved("lm_head", ["lm_head"], params=64_000)]), CODE) == []
