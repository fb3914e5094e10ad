"""LA003 modules-to-save-unmatched: a modules_to_save entry that wraps nothing."""

from __future__ import annotations

from tests.factory import check, expect, layer_names, one, report, saved, target

CODE = "LA003"
TARGETS = [target("q_proj", layer_names("self_attn.q_proj"))]


def test_fires_on_a_misspelt_entry_with_the_leaf_name_it_meant():
    f = one(check(report(targets=TARGETS, modules_to_save=[saved("embed_token")]), CODE))
    expect(f, CODE, "embed_token", "error", "modules_to_save entry 'embed_token' wraps no module: nothing is saved",
           hint="did you mean embed_tokens?")


def test_fires_without_a_suggestion_when_nothing_is_close():
    f = one(check(report(targets=TARGETS, modules_to_save=[saved("classifier_head_xyz")]), CODE))
    expect(f, CODE, "classifier_head_xyz", "error", hint="use a module name from `lora-audit MODEL --tree`")


def test_quiet_when_the_entry_wraps_a_module_or_peft_added_it():
    wraps = saved("lm_head", ["lm_head"], params=64_000)
    peft_added = saved("score", origin="task_type")  # PEFT's own addition for SEQ_CLS: not the user's typo
    assert check(report(targets=TARGETS, modules_to_save=[wraps, peft_added]), CODE) == []
