"""LA023 low-block-coverage: the adapters reach only a small share of a model's repeated blocks."""

from __future__ import annotations

from tests.factory import blocks, check, decoder, expect, one, report, target

CODE = "LA023"
TREE = decoder(layers=4)
ONE_OF_FOUR = blocks("model.layers", [{"q_proj": 1}, {"q_proj": 0}, {"q_proj": 0}, {"q_proj": 0}])
Q = [target("q_proj", ["model.layers.0.self_attn.q_proj"])]


def test_fires_when_a_quarter_of_the_blocks_is_reached():
    f = one(check(report(modules=TREE, targets=Q, coverage=ONE_OF_FOUR), CODE))
    expect(f, CODE, "model.layers", "warning",
           "adapters reach 1 of 4 blocks (25%): model.layers.0 only; untouched model.layers.(1-3), of type "
           "LlamaDecoderLayer (self_attn: LlamaAttention, mlp: LlamaMLP)", hint="add targets that exist")


def test_the_share_is_an_option_and_a_layer_choice_silences_it():
    assert check(report(modules=TREE, targets=Q, coverage=ONE_OF_FOUR), CODE, min_share=0.25) == []
    assert check(report(modules=TREE, targets=Q, coverage=ONE_OF_FOUR, lora={"layers_to_transform": [0]}),
                 CODE) == []


def test_quiet_when_most_blocks_are_reached():
    half = blocks("model.layers", [{"q_proj": 1}, {"q_proj": 1}, {"q_proj": 0}, {"q_proj": 0}])
    assert check(report(modules=TREE, targets=Q, coverage=half), CODE) == []
