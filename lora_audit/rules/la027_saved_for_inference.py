"""The adapter config was saved for inference; audited as training loads it.

What it checks
--------------
An ``adapter_config.json`` with ``inference_mode: true``, which ``save_pretrained`` always writes.
The audit reads it as training does (``PeftModel.from_pretrained(model, path, is_trainable=True)``,
or resuming a run), so the counts are the training counts; this finding says so.

Why it matters
--------------
Loaded as saved (``PeftModel.from_pretrained(model, path)`` without ``is_trainable=True``), every
adapter is frozen: the run trains **nothing**, and only the optimizer's empty parameter list or a
flat loss curve shows it.

Example
-------
::

    lora-audit Qwen/Qwen2.5-0.5B --config fixtures/lora/adapter
    # LA027 inference_mode: saved for inference; audited as training loads it (is_trainable=True)

Fix
---
To continue training, load with ``PeftModel.from_pretrained(model, path, is_trainable=True)``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from lora_audit.report import Report
from lora_audit.rules._base import Problem

CODE = "LA027"
NAME = "saved-for-inference"
SEVERITY = "info"
METHODS = "all"


def check(report: Report, options: dict[str, Any]) -> Iterator[Problem]:
    source = report.lora_config_source
    if source is None or not source.saved_for_inference:
        return
    yield Problem(
        subject="inference_mode",
        message=(
            "the adapter was saved for inference (inference_mode: true); audited as training loads it "
            "(is_trainable=True). Loaded without is_trainable=True it trains nothing"
        ),
        hint="to train it, load with PeftModel.from_pretrained(model, path, is_trainable=True)",
    )
