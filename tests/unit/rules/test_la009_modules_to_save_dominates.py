"""LA009 modules-to-save-dominates: full modules_to_save copies are most of what trains."""

from __future__ import annotations

from tests.factory import check, expect, layer_names, one, report, saved, target

CODE = "LA009"
Q = target("q_proj", layer_names("self_attn.q_proj"))  # 2 x 8·(64+64) = 2,048 LoRA parameters
HEAD = saved("lm_head", ["lm_head"], params=64_000)


def test_fires_when_copies_are_more_than_half_of_the_trainable_parameters():
    f = one(check(report(targets=[Q], modules_to_save=[HEAD]), CODE))
    expect(f, CODE, "modules_to_save", "warning",
           "96.9% of the trainable parameters (64,000 of 66,048) are full modules_to_save copies (lm_head 64,000)")


def test_the_share_is_an_option():
    assert check(report(targets=[Q], modules_to_save=[HEAD]), CODE, max_share=0.99) == []


def test_quiet_without_copies():
    assert check(report(targets=[Q]), CODE) == []
