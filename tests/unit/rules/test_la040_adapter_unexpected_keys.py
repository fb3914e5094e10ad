"""LA040 adapter-unexpected-keys: tensors in a saved adapter that PEFT does not create (and silently drops)."""

from __future__ import annotations

from tests.factory import adapter, check, comparison, expect, fit, report

CODE = "LA040"
P = "base_model.model.model.layers"
QUERY = [f"{P}.{i}.self_attn.query.lora_{ab}.weight" for i in range(2) for ab in "AB"]
Q_PROJ = [f"{P}.{i}.self_attn.q_proj.lora_{ab}.weight" for i in range(2) for ab in "AB"]


def test_fires_on_renamed_keys_with_peft_s_name():
    r = report(adapter=adapter(compared=comparison(unexpected=QUERY, missing=Q_PROJ)))
    first, second = check(r, CODE)
    expect(first, CODE, "model.layers.(0-1).self_attn.query.lora_A.weight", "error",
           "2 tensors in the adapter match no parameter PEFT creates for this config on LlamaForCausalLM: PEFT loads "
           "with strict=False and silently drops them",
           hint="did you mean model.layers.0.self_attn.q_proj.lora_A.weight?")
    assert second.subject == "model.layers.(0-1).self_attn.query.lora_B.weight"


def test_quiet_on_keys_of_blocks_the_base_lacks_la044_reports_them():
    extra = [f"{P}.2.self_attn.q_proj.lora_A.weight"]
    deeper = comparison(unexpected=extra, fits=fit(num_layers=3, expected_num_layers=2, layers_differ=True))
    assert check(report(adapter=adapter(compared=deeper)), CODE) == []


def test_quiet_when_every_key_is_expected_or_nothing_was_compared():
    assert check(report(adapter=adapter(compared=comparison())), CODE) == []
    assert check(report(adapter=adapter(format="pickle", table=None)), CODE) == []
