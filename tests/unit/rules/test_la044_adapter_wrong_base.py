"""LA044 adapter-wrong-base: an adapter whose shapes fit another base (hidden size, depth), or no key at all."""

from __future__ import annotations

from tests.factory import adapter, check, comparison, expect, fit, mismatch, one, report

CODE = "LA044"
P = "base_model.model.model.layers"


def test_fires_on_another_hidden_size_with_bundled_models_of_that_size():
    rows = [mismatch(f"{P}.{i}.self_attn.q_proj.lora_A.weight", [4, 128], [4, 64], "in_features") for i in range(2)]
    fits = fit(hidden_size=128, hidden_differs=True, candidates=["org/wide-model"])
    a = adapter(compared=comparison(mismatched=rows, fits=fits), base_model_name_or_path="org/wide-model",
                base_names_match=False)
    f = one(check(report(adapter=a), CODE))
    expect(f, CODE, "org/tiny-llama", "error",
           "the adapter's shapes fit hidden size 128; LlamaForCausalLM has 64: it was trained on another base "
           "(2 tensors have other sizes)",
           hint="(its base_model_name_or_path says org/wide-model); bundled models with these sizes: org/wide-model")


def test_fires_on_another_depth():
    deeper = [f"{P}.{i}.self_attn.q_proj.lora_A.weight" for i in (2, 3)]
    fits = fit(num_layers=4, expected_num_layers=2, layers_differ=True)
    f = one(check(report(adapter=adapter(compared=comparison(unexpected=deeper, fits=fits))), CODE))
    expect(f, CODE, "org/tiny-llama", "error", "fit 4 layers; LlamaForCausalLM has 2 adapted layers",
           "(2 keys belong to blocks only one side has)")


def test_fires_when_no_key_matches():
    strangers = ["base_model.model.transformer.h.0.attn.c_attn.lora_A.weight"]
    f = one(check(report(adapter=adapter(compared=comparison(matched=0, unexpected=strangers))), CODE))
    expect(f, CODE, "org/tiny-llama", "error",
           "no tensor of the adapter matches a parameter PEFT creates on LlamaForCausalLM (1 unexpected)")


def test_quiet_when_the_shapes_fit_this_base():
    assert check(report(adapter=adapter(compared=comparison())), CODE) == []
