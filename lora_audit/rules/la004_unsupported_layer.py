"""An entry matches a module type LoRA cannot wrap.

What it checks
--------------
PEFT's LoRA layer factory is asked about every module type a target entry matches. When PEFT
refuses one (a norm layer, an activation, a custom block), the entry is reported with the modules
and types it matched, and the audit runs on without that entry, so everything else is still
reported.

Why it matters
--------------
``get_peft_model`` stops at the first unsupported module with a message naming the layer's repr,
not the config entry that caught it. A too-broad name (``norm``, ``ln_1``, ``mlp``) or regex is
the usual cause.

Example
-------
::

    lora-audit openai-community/gpt2 --targets c_attn,ln_1
    # LA004 ln_1: matches 12 LayerNorm modules, which LoRA cannot wrap

Fix
---
Drop the entry, or narrow it to the Linear / Embedding / Conv layers inside (``lora-audit MODEL
--tree`` shows the types). To train a norm layer in full, use ``modules_to_save``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from lora_audit.naming import summarize
from lora_audit.report import Report
from lora_audit.rules._base import Problem, plural

CODE = "LA004"
NAME = "unsupported-layer"
SEVERITY = "error"


def check(report: Report, options: dict[str, Any]) -> Iterator[Problem]:
    for target in report.targets:
        if target.dropped_kind != "unsupported-layer":
            continue
        types = ", ".join(sorted(target.types)) or "?"
        yield Problem(
            subject=target.pattern,
            message=(
                f"{target.pattern!r} matches {plural(target.matched, 'module')} ({summarize(target.modules)}) of "
                f"type {types}, which LoRA cannot wrap; PEFT refuses the whole config "
                f"(audited without this entry). PEFT: {target.dropped}"
            ),
            hint="narrow the entry to Linear/Embedding/Conv layers, or train the module in full via modules_to_save",
        )
