"""LA012 pattern-key-unmatched: a rank_pattern / alpha_pattern key that sets no adapted module."""

from __future__ import annotations

from tests.factory import check, expect, layer_names, one, report, target

CODE = "LA012"
Q = layer_names("self_attn.q_proj")
TARGETS = [target("q_proj", Q)]


def test_fires_on_a_key_that_sets_nothing_with_the_close_name():
    r = report(targets=TARGETS, pattern_matches={"rank_pattern": {"q_porj": []}})
    expect(one(check(r, CODE)), CODE, "rank_pattern[q_porj]", "warning",
           "rank_pattern key 'q_porj' sets no adapted module: those modules keep the global value",
           hint="did you mean q_proj?")


def test_quiet_when_the_key_sets_modules_or_nothing_was_applied():
    assert check(report(targets=TARGETS, pattern_matches={"alpha_pattern": {"q_proj": Q}}), CODE) == []
    r = report(targets=[target("c_attn")], pattern_matches={"rank_pattern": {"q_porj": []}})
    assert check(r, CODE) == []  # LA002's case
