"""LA042 adapter-shape-mismatch: a tensor with another shape than PEFT creates (loading fails)."""

from __future__ import annotations

from tests.factory import adapter, check, comparison, expect, fit, mismatch, one, report

CODE = "LA042"
P = "base_model.model.model.layers"


def test_fires_on_another_rank_with_the_rank_to_set():
    rows = [mismatch(f"{P}.{i}.self_attn.q_proj.lora_A.weight", [8, 64], [4, 64], "rank") for i in range(2)]
    f = one(check(report(adapter=adapter(compared=comparison(mismatched=rows))), CODE))
    expect(f, CODE, "model.layers.(0-1).self_attn.q_proj.lora_A.weight", "error",
           "rank 8 in the file, PEFT gives r=4 for this module (2 tensors: [8, 64] in the file, [4, 64] expected)",
           hint="set r (or a rank_pattern entry for this module) to 8 in adapter_config.json")


def test_fires_on_other_features_with_the_wrong_base_hint():
    rows = [mismatch(f"{P}.0.mlp.down_proj.lora_A.weight", [4, 96], [4, 128], "in_features")]
    f = one(check(report(adapter=adapter(compared=comparison(mismatched=rows))), CODE))
    expect(f, CODE, "model.layers.0.mlp.down_proj.lora_A.weight", "error",
           "in_features differ: [4, 96] in the file, [4, 128] on LlamaForCausalLM (the tensor); loading stops",
           hint="audit it against that base")


def test_quiet_on_sizes_another_hidden_size_explains_and_on_vocabulary_rows():
    hidden = [mismatch(f"{P}.0.self_attn.q_proj.lora_A.weight", [4, 128], [4, 64], "in_features")]
    rows = [mismatch("base_model.model.lm_head.weight", [1010, 64], [1000, 64], "rows")]
    other_base = comparison(mismatched=hidden + rows, fits=fit(hidden_size=128, hidden_differs=True))
    assert check(report(adapter=adapter(compared=other_base)), CODE) == []
