"""No target_modules given: PEFT's defaults for this model type were used.

What it checks
--------------
Whether the config leaves ``target_modules`` (and ``target_parameters``) unset, so that PEFT
falls back to its per-architecture defaults. The finding lists them.

Why it matters
--------------
PEFT's defaults are conservative (usually the query and value projections only) and differ by
architecture; a config that relies on them trains a different set of layers on every model it is
used with, and the saved adapter_config.json will list modules you never wrote down.

Example
-------
::

    lora-audit Qwen/Qwen2.5-0.5B
    # LA019 target_modules: PEFT's defaults for qwen2 were used: q_proj, v_proj

Fix
---
Write the targets down (``--targets q_proj,v_proj``), or use ``all-linear`` for every linear layer.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from lora_audit.report import Report
from lora_audit.rules._base import Problem

CODE = "LA019"
NAME = "default-targets"
SEVERITY = "info"


def check(report: Report, options: dict[str, Any]) -> Iterator[Problem]:
    defaults = next((t for t in report.targets if t.kind == "defaults"), None)
    if defaults is None or not defaults.resolved or not report.applied:
        return
    names = ", ".join(defaults.resolved)
    yield Problem(
        subject="target_modules",
        message=(
            f"no target_modules given: PEFT's defaults for {report.model.model_type} were used: {names} "
            f"({defaults.matched} modules)"
        ),
        hint=f"write them down (--targets {','.join(defaults.resolved)}), or choose others explicitly",
    )
