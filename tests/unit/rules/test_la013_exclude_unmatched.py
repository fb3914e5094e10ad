"""LA013 exclude-unmatched: an exclude_modules entry that keeps nothing out."""

from __future__ import annotations

from tests.factory import check, expect, layer_names, one, report, target

CODE = "LA013"
TARGETS = [target("q_proj", layer_names("self_attn.q_proj")), target("v_proj", layer_names("self_attn.v_proj"))]


def test_fires_on_an_entry_that_excludes_nothing():
    f = one(check(report(targets=TARGETS, exclude_matches={"v_porj": []}), CODE))
    expect(f, CODE, "v_porj", "warning", "exclude_modules entry 'v_porj' excludes nothing the targets match",
           hint="did you mean v_proj?")


def test_quiet_when_the_entry_keeps_a_module_out():
    k_proj = "model.layers.1.self_attn.k_proj"
    r = report(targets=TARGETS, exclude_matches={k_proj: [k_proj]})
    assert check(r, CODE) == []
