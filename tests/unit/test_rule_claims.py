"""LA024 relays the PEFT warnings no other rule reports: it must know every rule that claims one."""

from __future__ import annotations

from lora_audit.rules import RULES, la024_peft_warning


def test_every_rule_with_claims_is_one_la024_leaves_its_messages_to():
    claiming = {rule.code for rule in RULES if rule.claims}
    listed = {module.CODE for module in la024_peft_warning.CLAIMING_RULES}
    assert claiming == listed
    assert len(claiming) >= 5  # LA001, LA008, LA010, LA012, LA013


def test_a_claimed_message_is_not_relayed_and_another_is():
    assert la024_peft_warning.claimed("fan_in_fan_out is set to False but the target module is `Conv1D`. Setting ...")
    assert not la024_peft_warning.claimed("some other warning PEFT gives")
