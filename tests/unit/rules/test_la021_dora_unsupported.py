"""LA021 dora-unsupported: use_dora on a layer type DoRA does not support (PEFT refuses the config)."""

from __future__ import annotations

from tests.factory import check, expect, layer_names, one, report, target

CODE = "LA021"
Q = target("q_proj", layer_names("self_attn.q_proj"))


def test_fires_on_an_entry_peft_refused_for_dora():
    refused = target("conv", ["model.conv"], types={"Conv1d": 1}, dropped_kind="dora-unsupported",
                     dropped="Unsupported layer type for DoRA")
    f = one(check(report(targets=[Q, refused], lora={"use_dora": True}), CODE))
    expect(f, CODE, "conv", "error",
           "use_dora=True, but DoRA in this PEFT does not support what 'conv' matches (Conv1d); PEFT refuses the "
           "config (audited without this entry). PEFT: Unsupported layer type for DoRA", hint="drop use_dora")


def test_quiet_without_a_dora_refusal():
    assert check(report(targets=[Q], lora={"use_dora": True}), CODE) == []
