"""A key in a framework config looks like LoRA, but the framework does not read it.

What it checks
--------------
Keys of an axolotl, LLaMA-Factory or TRL config that look like LoRA settings (they start with
``lora_`` or ``peft_``, mention ``lora``, or are a near-miss of a LoRA key the framework reads) but
that the framework's front-end does not know. The framework's own training keys
(``sequence_len``, ``datasets``, ``learning_rate``...) are not findings: the report lists them as
ignored.

Why it matters
--------------
The framework ignores a key it does not know, so a typo (``lora_target_moduels``) trains with the
default in its place, and nothing in the training log says so.

Example
-------
::

    lora-audit fixtures/lora/axolotl-typo.yml        # with lora_target_moduels: [q_proj, v_proj]
    # LA026 lora_target_moduels: axolotl does not read this key: it is ignored
    #   fix: did you mean lora_target_modules?

Fix
---
Fix the spelling, or remove the key.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from lora_audit.report import Report
from lora_audit.rules._base import Problem

CODE = "LA026"
NAME = "unknown-framework-key"
SEVERITY = "warning"
METHODS = "all"


def check(report: Report, options: dict[str, Any]) -> Iterator[Problem]:
    source = report.lora_config_source
    if source is None:
        return
    for key, close in source.unknown_keys.items():
        yield Problem(
            subject=key,
            message=f"{source.format} does not read {key!r}: it is ignored, and the default applies",
            hint=f"did you mean {', '.join(close)}?" if close else "fix the spelling, or remove the key",
        )
