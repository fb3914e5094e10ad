"""task_type does not fit the model, or is missing where PEFT needs it.

What it checks
--------------
The config's ``task_type`` against the class that was built: ``CAUSAL_LM`` on a sequence
classifier, ``SEQ_2_SEQ_LM`` on a decoder-only model, ``SEQ_CLS`` on a causal LM, and so on; and a
classification or question-answering class with no ``task_type`` at all.

Why it matters
--------------
``task_type`` picks the PeftModel wrapper: it decides which head PEFT trains and saves
(``SEQ_CLS`` adds the classifier to ``modules_to_save``), how ``forward`` and ``generate`` are
called, and what the saved adapter says it is for. A mismatched one trains, but the wrong parts, and
loads wrongly later.

Example
-------
::

    lora-audit google-bert/bert-base-uncased --model-class BertForSequenceClassification \\
        --targets query,value
    # LA020 task_type: BertForSequenceClassification is a SEQ_CLS model but no task_type is set

Fix
---
Set the task type that matches the model's head (``--task-type SEQ_CLS`` for a sequence
classifier), or build the head that matches the task (``--model-class``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from lora_audit.report import Report
from lora_audit.rules._base import Problem
from lora_audit.rules._facts import class_task

CODE = "LA020"
NAME = "task-type-mismatch"
SEVERITY = "warning"
METHODS = "all"
#: Tasks whose head PEFT must know about to train and save it.
_NEEDS_TASK = {"SEQ_CLS", "TOKEN_CLS", "QUESTION_ANS"}


def check(report: Report, options: dict[str, Any]) -> Iterator[Problem]:
    task = report.lora_config.get("task_type")
    expected = class_task(report)
    cls = report.model.class_name
    if task is None:
        if expected in _NEEDS_TASK:
            yield Problem(
                subject="task_type",
                message=f"{cls} is a {expected} model but no task_type is set: PEFT does not train or save its head",
                hint=f"set task_type={expected} (--task-type {expected})",
            )
        return
    if expected is None or expected in ("OTHER_HEAD", "MASKED_LM"):
        return
    compatible = {expected}
    if expected == "FEATURE_EXTRACTION":
        compatible |= {"FEATURE_EXTRACTION"}
    if task not in compatible:
        yield Problem(
            subject="task_type",
            message=f"task_type={task} does not fit {cls}, which is a {expected} model",
            hint=f"use task_type={expected}, or build the head for {task} (--model-class / --task-type)",
        )
