"""A module is both a LoRA target and in modules_to_save.

What it checks
--------------
Modules that a target entry names and that ``modules_to_save`` also copies. PEFT either skips LoRA
there (a module that matches a ``modules_to_save`` name is never adapted) or, when the two lists
match by different rules, raises while wrapping. Both are reported, with the module names.

Why it matters
--------------
Listing ``embed_tokens`` in both lists looks like "LoRA plus a trainable copy"; PEFT does only the
full copy, and the target entry silently matches nothing. The other direction (``head`` in
``modules_to_save`` matching ``lm_head``, which a target also adapts) makes ``get_peft_model``
raise a TypeError that names neither entry.

Example
-------
::

    lora-audit Qwen/Qwen2.5-0.5B --targets q_proj,embed_tokens --modules-to-save embed_tokens
    # LA015 embed_tokens: model.embed_tokens is in modules_to_save, so PEFT does not adapt it

Fix
---
Decide per module: LoRA (keep it in ``target_modules``) or a full trainable copy (keep it in
``modules_to_save``), not both.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from lora_audit.naming import summarize
from lora_audit.report import Report
from lora_audit.rules._base import Problem

CODE = "LA015"
NAME = "adapted-and-saved"
SEVERITY = "warning"
METHODS = "targets"


def check(report: Report, options: dict[str, Any]) -> Iterator[Problem]:
    for target in report.targets:
        if target.excluded_by_modules_to_save:
            names = summarize(target.excluded_by_modules_to_save)
            yield Problem(
                subject=target.pattern,
                message=(
                    f"{names} is named by target entry {target.pattern!r} and by modules_to_save: PEFT copies it in "
                    "full and does not adapt it"
                ),
                hint="keep the module in one list: target_modules for LoRA, modules_to_save for a full copy",
            )
    for saved in report.modules_to_save:
        if saved.dropped:
            yield Problem(
                subject=saved.pattern,
                message=(
                    f"modules_to_save entry {saved.pattern!r} wraps {summarize(saved.modules)}, which a target entry "
                    f"also adapts: get_peft_model raises (audited without this entry). PEFT: {saved.dropped}"
                ),
                hint="keep the module in one list: target_modules for LoRA, modules_to_save for a full copy",
                severity="error",  # PEFT refuses this config outright
            )
