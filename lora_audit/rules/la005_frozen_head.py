"""A task head stays frozen at random initialisation.

What it checks
--------------
For a classification or question-answering model (``...ForSequenceClassification``,
``...ForTokenClassification``, ``...ForQuestionAnswering``, ``...ForImageClassification``, ...),
the fresh task head (``classifier``, ``score``, ``qa_outputs``) must train. The rule fires when
the head is neither LoRA-adapted nor in ``modules_to_save`` (PEFT adds it there itself when
``task_type`` is set).

Why it matters
--------------
The head of a classifier fine-tuned from a base checkpoint starts from random weights. Frozen, it
stays random: the loss barely moves, accuracy sits near chance, and nothing warns you. It is the
most common silent failure of LoRA classification tutorials that leave out ``task_type``.

Example
-------
::

    lora-audit google-bert/bert-base-uncased --model-class BertForSequenceClassification \\
        --targets query,value
    # LA005 classifier: the classification head is frozen at its random initialisation

Fix
---
Set the task type (``--task-type SEQ_CLS``; PEFT then trains and saves the head), or add the head
to ``modules_to_save`` (``--modules-to-save classifier``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from lora_audit.report import Report
from lora_audit.rules._base import Problem
from lora_audit.rules._facts import adapted_names, class_task, saved_modules, task_heads, under

CODE = "LA005"
NAME = "frozen-head"
SEVERITY = "error"
METHODS = "all"


def check(report: Report, options: dict[str, Any]) -> Iterator[Problem]:
    if not report.applied:
        return  # nothing trains at all: LA002 says so
    saved = saved_modules(report)
    adapted = adapted_names(report)
    task = class_task(report)
    for head in task_heads(report):
        if under(head, saved) or any(name == head or name.startswith(head + ".") for name in adapted):
            continue
        fix = f"add --task-type {task} (PEFT then trains and saves the head)" if task and task != "OTHER_HEAD" else ""
        fix = (fix + ", or " if fix else "") + f"add {head} to modules_to_save (--modules-to-save {head})"
        yield Problem(
            subject=head,
            message=(
                f"the task head {head!r} of {report.model.class_name} is neither adapted nor in modules_to_save: "
                "it stays frozen at its random initialisation"
            ),
            hint=fix,
        )
