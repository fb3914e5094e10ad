"""PEFT warned about something no other rule covers.

What it checks
--------------
Every warning PEFT (or transformers, during injection) emits while lora-audit applies the config
is captured. Those that another rule already reports in its own words (tied weights, Conv1D
fan_in_fan_out, unmatched rank_pattern keys, ...) are left to that rule; any other is relayed
here verbatim.

Why it matters
--------------
In a training script these warnings scroll past between progress bars. In CI they vanish. Here
each one is a finding you can read, act on, or suppress with a reason.

Example
-------
::

    # any PEFT warning without a dedicated rule, e.g. about an unsupported TP plan
    # LA024 peft: PEFT warned: ...

Fix
---
Read PEFT's message; if it is expected for your setup, suppress it with a reason
(``ignore = { LA024 = "why" }`` in ``[tool.lora-audit]``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from lora_audit.report import Report
from lora_audit.rules import (
    la001_target_unmatched,
    la008_tied_weight_copied,
    la010_fan_in_fan_out,
    la012_pattern_key_unmatched,
    la013_exclude_unmatched,
)
from lora_audit.rules._base import Problem

CODE = "LA024"
NAME = "peft-warning"
SEVERITY = "warning"
METHODS = "all"

#: The rules that report a PEFT message in their own words (their ``CLAIMS``). Imported by name: the
#: registry imports this rule, so this rule cannot ask the registry (tests/unit/test_import_graph.py);
#: tests/unit/test_rule_claims.py checks that every rule with CLAIMS is listed here.
CLAIMING_RULES = (
    la001_target_unmatched,
    la008_tied_weight_copied,
    la010_fan_in_fan_out,
    la012_pattern_key_unmatched,
    la013_exclude_unmatched,
)
_CLAIMS = tuple(pattern for rule in CLAIMING_RULES for pattern in rule.CLAIMS)


def claimed(message: str) -> bool:
    """Whether another rule reports this PEFT message in its own words."""
    return any(pattern.search(message) for pattern in _CLAIMS)


def check(report: Report, options: dict[str, Any]) -> Iterator[Problem]:
    for message in report.peft_messages:
        if message.stage != "apply" or claimed(message.message):
            continue
        yield Problem(
            subject="peft",
            message=f"PEFT warned: {' '.join(message.message.split())}",
            hint="read PEFT's message; suppress with a reason if it is expected",
        )
