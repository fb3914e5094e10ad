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
from lora_audit.rules._base import Problem

CODE = "LA024"
NAME = "peft-warning"
SEVERITY = "warning"


def check(report: Report, options: dict[str, Any]) -> Iterator[Problem]:
    from lora_audit.rules import claimed

    for message in report.peft_messages:
        if message.stage != "apply" or claimed(message.message):
            continue
        yield Problem(
            subject="peft",
            message=f"PEFT warned: {' '.join(message.message.split())}",
            hint="read PEFT's message; suppress with a reason if it is expected",
        )
