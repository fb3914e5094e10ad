"""A rank_pattern or alpha_pattern key sets nothing.

What it checks
--------------
Each key of ``rank_pattern`` and ``alpha_pattern`` is resolved the way PEFT resolves it
(``get_pattern_key``, keys tried in order, matched against the end of each adapted module's name).
A key that sets no adapted module fires, including one shadowed by an earlier key.

Why it matters
--------------
A misspelt key, or one naming a module that is not a target, leaves those modules at the global
``r``/``lora_alpha`` with no error. PEFT 0.21 warns, but also warns about keys it inserted itself
when converting MoE experts (which do apply), so its warning cannot be trusted either way; this
rule checks what was actually set.

Example
-------
::

    lora-audit Qwen/Qwen2.5-0.5B --targets q_proj,v_proj --rank-pattern qproj=32
    # LA012 rank_pattern[qproj]: sets no adapted module

Fix
---
Use a key that ends an adapted module's name (``q_proj``, or a regex such as
``layers\\.(0|1)\\.self_attn\\.q_proj``); ``--tree`` lists the adapted modules.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from lora_audit.naming import did_you_mean, leaf
from lora_audit.report import Report
from lora_audit.rules._base import Problem

CODE = "LA012"
NAME = "pattern-key-unmatched"
SEVERITY = "warning"
METHODS = "targets"
CLAIMS = (re.compile(r"The following (rank|alpha)_pattern keys did not match any targeted module"),)


def check(report: Report, options: dict[str, Any]) -> Iterator[Problem]:
    if not report.applied:
        return
    adapted_leaves = {leaf(r.name) for r in report.adapted_modules}
    for attr, keys in report.pattern_matches.items():
        for key, modules in keys.items():
            if modules:
                continue
            close = did_you_mean(key, adapted_leaves)
            yield Problem(
                subject=f"{attr}[{key}]",
                message=f"{attr} key {key!r} sets no adapted module: those modules keep the global value",
                hint=(f"did you mean {', '.join(close)}?" if close else "use a key that ends an adapted module's name"),
            )
