"""A modules_to_save entry wraps nothing.

What it checks
--------------
Each ``modules_to_save`` entry is run through PEFT's own ``modules_to_save`` logic on the model's
module names. An entry that wraps no module fires, with close spellings from the model.

Why it matters
--------------
PEFT never complains about a ``modules_to_save`` entry that matches nothing. A typo such as
``embed_token`` for ``embed_tokens`` leaves the module frozen: the new tokens' embeddings, or the
head you meant to train, stay at their initial values, and nothing tells you.

Example
-------
::

    lora-audit naver-hyperclovax/HyperCLOVAX-SEED-Text-Instruct-0.5B --targets all-linear \\
        --modules-to-save lm_head,embed_token
    # LA003 embed_token: wraps nothing; did you mean embed_tokens?

Fix
---
Use the module's real name (``lora-audit MODEL --tree``), or drop the entry.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from lora_audit.naming import did_you_mean
from lora_audit.report import Report
from lora_audit.rules._base import Problem
from lora_audit.rules._suggest import all_names

CODE = "LA003"
NAME = "modules-to-save-unmatched"
SEVERITY = "error"
METHODS = "targets"


def check(report: Report, options: dict[str, Any]) -> Iterator[Problem]:
    for saved in report.modules_to_save:
        if saved.matched or saved.origin != "user":
            continue
        names = all_names(report)
        leaves = {n for n in names if "." not in n}
        # Leaf names read best (embed_tokens); full names only when no leaf is close.
        suggestions = did_you_mean(saved.pattern, leaves) or did_you_mean(saved.pattern, names)
        hint = (
            f"did you mean {', '.join(suggestions)}?"
            if suggestions
            else "use a module name from `lora-audit MODEL --tree`, or remove the entry"
        )
        yield Problem(
            subject=saved.pattern,
            message=f"modules_to_save entry {saved.pattern!r} wraps no module: nothing is saved or trained for it",
            hint=hint,
        )
