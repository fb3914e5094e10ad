"""An exclude_modules entry excludes nothing.

What it checks
--------------
Each ``exclude_modules`` entry (or the regex) is checked with PEFT's matching: does it keep out any
module the targets would otherwise adapt? An entry that keeps out nothing fires.

Why it matters
--------------
An exclusion that excludes nothing means a module you meant to protect (a vision tower, the last
layers, a router) is adapted after all. PEFT warns only when *no* entry excludes anything.

Example
-------
::

    lora-audit Qwen/Qwen2.5-0.5B --targets all-linear --exclude-modules mlp.gate_projj
    # LA013 mlp.gate_projj: excludes nothing the targets match

Fix
---
Use the name or suffix of a module the targets match (``--tree`` lists them), or remove the entry.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from lora_audit.naming import did_you_mean, leaf
from lora_audit.report import Report
from lora_audit.rules._base import Problem

CODE = "LA013"
NAME = "exclude-unmatched"
SEVERITY = "warning"
METHODS = "targets"
CLAIMS = (re.compile(r"You have passed exclude_modules=.* but no modules were excluded"),)


def check(report: Report, options: dict[str, Any]) -> Iterator[Problem]:
    adapted_leaves = {leaf(r.name) for r in report.adapted_modules}
    for entry, kept_out in report.exclude_matches.items():
        if kept_out:
            continue
        close = did_you_mean(entry, adapted_leaves)
        yield Problem(
            subject=entry,
            message=f"exclude_modules entry {entry!r} excludes nothing the targets match",
            hint=(f"did you mean {', '.join(close)}?" if close else "use the name of a module the targets match, "
                  "or remove the entry"),
        )
