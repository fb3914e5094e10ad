"""LA051 mixed-layer-kinds: one target entry adapting different kinds of layer (Linear and a convolution)."""

from __future__ import annotations

from tests.factory import check, expect, one, report, row, target

CODE = "LA051"
TREE = {"": "VisionTransformer", "patch_embed.proj": "Conv2d",
        **{f"blocks.{i}.attn.proj": "Linear" for i in range(2)}}
PROJ = ["patch_embed.proj", "blocks.0.attn.proj", "blocks.1.attn.proj"]
ROWS = [row("patch_embed.proj", k=3, d=64, base_type="Conv2d", kind="lora.Conv2d", kernel_size=[16, 16]),
        row("blocks.0.attn.proj"), row("blocks.1.attn.proj")]


def test_fires_on_a_name_that_catches_the_patch_embedding_convolution():
    r = report(modules=TREE, targets=[target("proj", PROJ, types={"Conv2d": 1, "Linear": 2})], adapted=ROWS)
    f = one(check(r, CODE))
    expect(f, CODE, "proj", "warning",
           "'proj' adapts 2 Linear and 1 Conv2d: one name, different kinds of layer; the convolution "
           "(patch_embed.proj) gets the same rank and alpha as the rest",
           hint="(--exclude-modules patch_embed.proj)")


def test_quiet_when_the_entry_adapts_one_kind():
    linear_only = ["blocks.0.attn.proj", "blocks.1.attn.proj"]
    assert check(report(modules=TREE, targets=[target("attn.proj", linear_only)], adapted=ROWS[1:]), CODE) == []
