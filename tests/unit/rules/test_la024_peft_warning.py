"""LA024 peft-warning: a warning PEFT printed while applying the config that no other rule explains."""

from __future__ import annotations

from tests.factory import check, expect, layer_names, one, peft_warning, report, target

CODE = "LA024"
TARGETS = [target("q_proj", layer_names("self_attn.q_proj"))]


def test_fires_on_an_unclaimed_warning_from_the_apply_stage():
    r = report(targets=TARGETS, peft_messages=[peft_warning("Something   odd\nhappened")])
    expect(one(check(r, CODE)), CODE, "peft", "warning", "PEFT warned: Something odd happened")


def test_quiet_on_warnings_a_rule_claims_or_that_came_while_building():
    claimed = peft_warning("target_modules={'c_attn'} were set but no module was matched.")  # LA001 says it better
    built = peft_warning("a transformers warning", stage="build")
    assert check(report(targets=TARGETS, peft_messages=[claimed, built]), CODE) == []
