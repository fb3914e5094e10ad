"""LA007 rank-exceeds-dim: r above min(d, k), so some ranks can never be used."""

from __future__ import annotations

from tests.factory import check, expect, layer_names, one, report, row, rows_for

CODE = "LA007"


def test_fires_on_a_rank_above_the_smaller_side():
    f = one(check(report(adapted=rows_for(layer_names("self_attn.k_proj"), k=64, d=16, r=24)), CODE))
    expect(f, CODE, "model.layers.(0-1).self_attn.k_proj", "warning",
           "r=24 > min(d, k) = 16 (k=64, d=16): 8 of the 24 ranks can never be used",
           hint="cap the rank at 16 or below here (--rank-pattern k_proj=16)")


def test_quiet_at_the_cap_and_for_a_convolution_whose_kernel_widens_k():
    at_cap = rows_for(layer_names("self_attn.q_proj"), k=64, d=16, r=16)
    conv = row("conv_in", k=4, d=32, r=32, base_type="Conv2d", kind="lora.Conv2d", kernel_size=[3, 3])  # k = 36
    assert check(report(adapted=[*at_cap, conv]), CODE) == []
