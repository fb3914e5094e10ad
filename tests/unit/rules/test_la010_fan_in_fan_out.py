"""LA010 fan-in-fan-out: GPT-2's Conv1D layers targeted with fan_in_fan_out=False."""

from __future__ import annotations

from tests.factory import check, expect, one, report, rows_for

CODE = "LA010"
C_ATTN = ["transformer.h.0.attn.c_attn", "transformer.h.1.attn.c_attn"]
TREE = {"": "GPT2LMHeadModel", **{name: "Conv1D" for name in C_ATTN}}


def test_fires_on_conv1d_rows_without_fan_in_fan_out():
    r = report(modules=TREE, adapted=rows_for(C_ATTN, k=64, d=192, base_type="Conv1D", kind="lora.Linear"))
    expect(one(check(r, CODE)), CODE, "transformer.h.(0-1).attn.c_attn", "warning",
           "2 Conv1D module(s) (weights stored in x out) targeted with fan_in_fan_out=False",
           hint="set fan_in_fan_out=True (--fan-in-fan-out)")


def test_quiet_with_fan_in_fan_out_or_on_linear_layers():
    conv1d = rows_for(C_ATTN, k=64, d=192, base_type="Conv1D", kind="lora.Linear")
    assert check(report(modules=TREE, adapted=conv1d, lora={"fan_in_fan_out": True}), CODE) == []
    assert check(report(adapted=rows_for(C_ATTN)), CODE) == []
