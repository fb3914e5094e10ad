"""LA025 unknown-config-field: a config field this PEFT does not know (a newer or older PEFT wrote it)."""

from __future__ import annotations

from tests.factory import check, expect, layer_names, one, report, target

CODE = "LA025"
TARGETS = [target("q_proj", layer_names("self_attn.q_proj"))]


def test_fires_on_a_misspelt_field_with_the_field_it_meant():
    f = one(check(report(targets=TARGETS, unknown_config_fields=["lora_alpah"]), CODE))
    expect(f, CODE, "lora_alpah", "info", "'lora_alpah' is not a LoraConfig field in PEFT 0.21.2: it is ignored",
           hint="did you mean lora_alpha?")


def test_fires_on_a_field_from_another_peft_version_with_the_upgrade_hint():
    f = one(check(report(targets=TARGETS, unknown_config_fields=["corda_config_v9"]), CODE))
    expect(f, CODE, "corda_config_v9", "info", hint="upgrade PEFT to the version that wrote the file")


def test_quiet_when_every_field_is_known():
    assert check(report(targets=TARGETS), CODE) == []
