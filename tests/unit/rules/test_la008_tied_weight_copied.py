"""LA008 tied-weight-copied: a module whose weight is tied to another, copied or adapted on one side only."""

from __future__ import annotations

from tests.factory import check, expect, layer_names, model, one, report, saved, target

CODE = "LA008"
TIED = model(tie_word_embeddings=True, tied_weights=[["lm_head.weight", "model.embed_tokens.weight"]])
Q = target("q_proj", layer_names("self_attn.q_proj"))
SHAPES = {"lm_head": [1000, 64]}


def test_fires_when_modules_to_save_copies_one_side_of_the_tie():
    r = report(model=TIED, shapes=SHAPES, targets=[Q], modules_to_save=[saved("lm_head", ["lm_head"], params=64_000)])
    expect(one(check(r, CODE)), CODE, "lm_head", "warning",
           "lm_head.weight is tied to model.embed_tokens.weight; modules_to_save copies lm_head alone, so training "
           "unties them (the 64,000-parameter copy learns", hint="set ensure_weight_tying=True")


def test_fires_when_lora_adapts_one_side_of_the_tie():
    r = report(model=TIED, targets=[Q, target("lm_head", ["lm_head"])])
    expect(one(check(r, CODE)), CODE, "lm_head", "warning",
           "LoRA adapts lm_head, whose weight is tied to model.embed_tokens.weight")


def test_quiet_with_ensure_weight_tying_or_without_a_tie():
    copied = [saved("lm_head", ["lm_head"], params=64_000)]
    assert check(report(model=TIED, targets=[Q], modules_to_save=copied, lora={"ensure_weight_tying": True}),
                 CODE) == []
    assert check(report(targets=[Q], modules_to_save=copied), CODE) == []
