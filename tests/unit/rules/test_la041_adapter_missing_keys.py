"""LA041 adapter-missing-keys: tensors PEFT creates for the config that the adapter does not hold."""

from __future__ import annotations

from tests.factory import adapter, check, comparison, expect, one, report

CODE = "LA041"
P = "base_model.model.model.layers"


def test_fires_on_missing_lora_tensors():
    missing = [f"{P}.{i}.self_attn.v_proj.lora_B.weight" for i in range(2)]
    f = one(check(report(adapter=adapter(compared=comparison(missing=missing))), CODE))
    expect(f, CODE, "model.layers.(0-1).self_attn.v_proj.lora_B.weight", "error",
           "2 tensors that PEFT creates for this config (lora_B) are not in the adapter",
           hint="or remove 'v_proj' from target_modules in adapter_config.json")


def test_a_missing_modules_to_save_copy_is_named_so():
    missing = ["base_model.model.classifier.weight"]
    f = one(check(report(adapter=adapter(compared=comparison(missing=missing))), CODE))
    expect(f, CODE, "classifier.weight", "error",
           "the modules_to_save copy of classifier (1 tensor) is not in the adapter",
           hint="remove 'classifier' from modules_to_save")


def test_quiet_when_nothing_is_missing():
    assert check(report(adapter=adapter(compared=comparison())), CODE) == []
