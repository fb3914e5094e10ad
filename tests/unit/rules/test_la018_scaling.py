"""LA018 scaling: alpha/r far from the usual, or very different across modules."""

from __future__ import annotations

from tests.factory import check, expect, layer_names, one, report, row, rows_for

CODE = "LA018"
Q, V = layer_names("self_attn.q_proj"), layer_names("self_attn.v_proj")


def test_fires_on_a_scaling_outside_the_usual_range():
    f = one(check(report(adapted=rows_for(Q, r=4, alpha=64)), CODE))
    expect(f, CODE, "scaling", "info",
           "alpha/r = 16 (r=4, alpha=64) is outside 0.25..4: updates are amplified 8x against the usual alpha = 2r",
           hint="set lora_alpha near r or 2r")


def test_rslora_divides_by_the_square_root_of_r():
    f = one(check(report(adapted=rows_for(Q, r=4, alpha=0.25, use_rslora=True), lora={"use_rslora": True}), CODE))
    expect(f, CODE, "scaling", "info", "alpha/sqrt(r) = 0.125 (r=4, alpha=0.25)", "damped 16x")


def test_fires_on_scalings_that_differ_across_modules():
    rows = [*rows_for(Q, r=8, alpha=16), *rows_for(V, r=64, alpha=16)]  # 2 against 0.25
    f = one(check(report(adapted=rows), CODE))
    expect(f, CODE, "rank_pattern", "info",
           "scalings differ 8x across modules: 0.25 on model.layers.0.self_attn.v_proj (r=64) against 2 on "
           "model.layers.0.self_attn.q_proj (r=8)", hint="give alpha_pattern entries")


def test_the_range_and_spread_are_options():
    assert check(report(adapted=rows_for(Q, r=4, alpha=64)), CODE, max=16) == []
    rows = [*rows_for(Q, r=8, alpha=16), *rows_for(V, r=64, alpha=16)]
    assert check(report(adapted=rows), CODE, spread=8) == []


def test_quiet_on_the_usual_alpha():
    assert check(report(adapted=[row(name, r=16, alpha=32) for name in Q + V]), CODE) == []
