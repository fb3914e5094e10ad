"""LA006 no-savings: a rank so high that r·(d+k) is no smaller than the d·k weight it adapts."""

from __future__ import annotations

from tests.factory import check, expect, layer_names, one, report, row, rows_for

CODE = "LA006"
Q = layer_names("self_attn.q_proj")


def test_fires_on_a_group_whose_lora_is_as_large_as_the_weight():
    f = one(check(report(adapted=rows_for(Q, k=64, d=64, r=64)), CODE))
    expect(f, CODE, "model.layers.(0-1).self_attn.q_proj", "warning",
           "r·(d+k) = 8,192 >= d·k = 4,096 (r=64, k=64, d=64, 2 modules): LoRA here is no smaller",
           hint="use r < 32 for these modules")


def test_a_convolution_counts_its_kernel_in_k():
    conv = row("conv_in", k=4, d=8, r=8, base_type="Conv2d", kind="lora.Conv2d", kernel_size=[3, 3])
    f = one(check(report(modules={"": "UNet2DModel", "conv_in": "Conv2d"}, adapted=[conv]), CODE))
    expect(f, CODE, "conv_in", "warning", "r·(d+k) = 352 >= d·k = 288 (r=8, k=4×3×3, d=8)", hint="use r < 6")


def test_quiet_when_lora_is_smaller():
    assert check(report(adapted=rows_for(Q, k=64, d=64, r=31)), CODE) == []
