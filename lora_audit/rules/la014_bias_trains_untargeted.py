"""bias="all" or "lora_only" makes biases trainable.

What it checks
--------------
With ``bias="all"`` or ``bias="lora_only"``, counts the biases that train and says how many sit
outside the adapted modules (``"all"`` trains every bias of the model).

Why it matters
--------------
These parameters train in full, count against the "trainable %" and, unlike the LoRA weights,
cannot be disabled or unmerged with the adapter: the base model itself changes. ``"all"`` reaches
layers you did not target (norms, MLPs, heads).

Example
-------
::

    lora-audit google-bert/bert-base-uncased --targets query,value --bias all
    # LA014 bias: 134,202 bias parameters train, 115,770 of them outside the adapted modules

Fix
---
Use ``bias="none"`` (the default) unless you mean to train biases; ``"lora_only"`` keeps it to the
adapted modules.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from lora_audit.naming import summarize
from lora_audit.report import Report
from lora_audit.rules._base import Problem

CODE = "LA014"
NAME = "bias-trains-untargeted"
SEVERITY = "info"
METHODS = "targets"


def check(report: Report, options: dict[str, Any]) -> Iterator[Problem]:
    bias = report.lora_config.get("bias")
    if bias not in ("all", "lora_only") or not report.applied:
        return
    counts = report.bias_params
    total = counts.in_adapted + counts.outside_adapted
    if not total:
        return
    message = f'bias="{bias}": {total:,} bias parameters train'
    if counts.outside_adapted:
        message += (f", {counts.outside_adapted:,} of them outside the adapted modules "
                    f"({summarize(counts.outside_modules)})")
    else:
        message += ", all inside the adapted modules"
    message += "; they change the base model and are not undone by disabling the adapter"
    yield Problem(
        subject="bias",
        message=message,
        hint='use bias="none" unless biases must train ("lora_only" limits it to adapted modules)',
    )
