"""Full copies from modules_to_save are most of what trains.

What it checks
--------------
The share of trainable parameters that are full ``modules_to_save`` copies. The rule fires when
it exceeds ``max-share`` (default 0.5), and gives the share and the largest copies.

Why it matters
--------------
A "parameter-efficient" run whose trainable parameters are mostly a copied vocabulary matrix is
dense fine-tuning of that matrix with a little LoRA on the side: the memory, optimizer state and
checkpoint size are those of the copy. Saving ``lm_head`` or ``embed_tokens`` to train a few new
tokens is the usual cause; ``trainable_token_indices`` trains only those rows.

Example
-------
::

    lora-audit naver-hyperclovax/HyperCLOVAX-SEED-Text-Instruct-0.5B --targets all-linear -r 16 \\
        --modules-to-save lm_head
    # LA009 modules_to_save: 92.0% of the trainable parameters are full copies (lm_head 113,246,208)

Fix
---
Drop the module from ``modules_to_save`` if it need not train; for new tokens use
``trainable_token_indices``; otherwise accept it knowingly (``ignore = { LA009 = "why" }``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from lora_audit.report import Report
from lora_audit.rules._base import Problem

CODE = "LA009"
NAME = "modules-to-save-dominates"
SEVERITY = "warning"
OPTIONS = {"max_share": 0.5}


def check(report: Report, options: dict[str, Any]) -> Iterator[Problem]:
    copies = report.params.trainable_breakdown.get("modules_to_save", 0)
    trainable = report.params.trainable
    if not trainable or not copies:
        return
    share = copies / trainable
    if share <= float(options["max_share"]):
        return
    largest = sorted((s for s in report.modules_to_save if s.params and not s.dropped), key=lambda s: -s.params)
    detail = ", ".join(f"{s.pattern} {s.params:,}" for s in largest[:3])
    yield Problem(
        subject="modules_to_save",
        message=(
            f"{100 * share:.1f}% of the trainable parameters ({copies:,} of {trainable:,}) are full "
            f"modules_to_save copies ({detail}): this run mostly trains dense layers"
        ),
        hint="drop modules that need not train; for new tokens use trainable_token_indices instead of a full copy",
    )
