"""LA022 partial-coverage: an entry that adapts some blocks (or some towers) and not others."""

from __future__ import annotations

from tests.factory import check, coverage_of, decoder, expect, layer_names, one, report, target

CODE = "LA022"


def test_fires_on_a_name_that_exists_in_some_blocks_only():
    tree = decoder(layers=3)
    del tree["model.layers.2.mlp.gate_proj"]  # the last block has no gate_proj
    f = one(check(report(modules=tree, targets=[target("gate_proj", layer_names("mlp.gate_proj", 2))]), CODE))
    expect(f, CODE, "gate_proj", "info",
           "'gate_proj' adapts modules in model.layers.(0-1) only; blocks 2 get nothing from it",
           hint="check that the name exists in every block you meant to adapt (--coverage)")


def test_fires_on_a_name_that_reaches_one_tower_of_two():
    tree = {"": "T5ForConditionalGeneration"}
    for tower in ("encoder", "decoder"):
        for i in range(2):
            tree[f"{tower}.block.{i}"] = "T5Block"
            tree[f"{tower}.block.{i}.ff.wi"] = "Linear"
    wi = target("wi", [f"encoder.block.{i}.ff.wi" for i in range(2)])
    towers = coverage_of(tree, [wi], "encoder.block") + coverage_of(tree, [wi], "decoder.block")
    r = report(modules=tree, targets=[wi], coverage=towers)
    expect(one(check(r, CODE)), CODE, "wi", "info", "'wi' matches only in encoder.block, not in decoder.block")


def test_quiet_on_an_attention_entry_where_the_same_attention_lacks_the_projection():
    # Flux's single-stream blocks: attention of the same class, built without add_k_proj, is not a gap.
    tree = decoder(layers=2)
    del tree["model.layers.1.self_attn.q_proj"]
    assert check(report(modules=tree, targets=[target("q_proj", layer_names("self_attn.q_proj", 1))]), CODE) == []


def test_quiet_when_every_block_is_reached_or_the_layers_are_chosen():
    every = [target("gate_proj", layer_names("mlp.gate_proj"))]
    assert check(report(targets=every), CODE) == []
    first = [target("gate_proj", layer_names("mlp.gate_proj", 1))]
    assert check(report(targets=first, lora={"layers_to_transform": [0]}), CODE) == []
