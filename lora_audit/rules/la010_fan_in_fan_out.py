"""A GPT-2 style Conv1D is targeted with fan_in_fan_out=False.

What it checks
--------------
Adapted modules whose base layer is transformers' ``Conv1D`` (GPT-2, GPT-J style: the weight is
stored ``(in, out)``) while the config says ``fan_in_fan_out=False``.

Why it matters
--------------
PEFT notices, prints a warning and flips ``fan_in_fan_out`` to True on the config object it was
given, so the run works, but the config you saved or will reuse says otherwise, and the warning
scrolls by unread. Other tools reading the adapter_config.json see the wrong value.

Example
-------
::

    lora-audit openai-community/gpt2 --targets c_attn
    # LA010 c_attn: 12 Conv1D modules targeted with fan_in_fan_out=False

Fix
---
Set ``fan_in_fan_out: true`` (``--fan-in-fan-out``) for GPT-2 style models.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from lora_audit.report import Report
from lora_audit.rules._base import Problem
from lora_audit.rules._facts import group_subject, row_groups

CODE = "LA010"
NAME = "fan-in-fan-out"
SEVERITY = "warning"
CLAIMS = (re.compile(r"fan_in_fan_out is set to False but the target module is `Conv1D`"),)


def check(report: Report, options: dict[str, Any]) -> Iterator[Problem]:
    if report.lora_config.get("fan_in_fan_out"):
        return
    for rows in row_groups(report.adapted_modules).values():
        conv = [r for r in rows if r.base_type == "Conv1D"]
        if conv:
            yield Problem(
                subject=group_subject(conv),
                message=(
                    f"{len(conv)} Conv1D module(s) (weights stored in x out) targeted with fan_in_fan_out=False; "
                    "PEFT silently flips it to True on its copy of the config"
                ),
                hint="set fan_in_fan_out=True (--fan-in-fan-out) for GPT-2 style models",
            )
