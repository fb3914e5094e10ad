"""LA019 default-targets: no target_modules given, so PEFT's defaults for the model type were used."""

from __future__ import annotations

from tests.factory import check, expect, layer_names, one, report, target

CODE = "LA019"


def test_fires_with_the_defaults_peft_used():
    defaults = target("defaults", layer_names("self_attn.q_proj") + layer_names("self_attn.v_proj"), kind="defaults",
                      resolved=["q_proj", "v_proj"])
    f = one(check(report(targets=[defaults]), CODE))
    expect(f, CODE, "target_modules", "info",
           "no target_modules given: PEFT's defaults for llama were used: q_proj, v_proj (4 modules)",
           hint="write them down (--targets q_proj,v_proj)")


def test_quiet_on_explicit_targets_and_when_the_defaults_adapted_nothing():
    assert check(report(targets=[target("q_proj", layer_names("self_attn.q_proj"))]), CODE) == []
    assert check(report(targets=[target("defaults", kind="defaults", resolved=["q_proj"])]), CODE) == []  # LA002
