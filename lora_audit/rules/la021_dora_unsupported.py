"""use_dora on a layer type DoRA does not support.

What it checks
--------------
With ``use_dora=True``, every targeted layer type is checked against what this PEFT version's DoRA
supports (PEFT's own layer factory decides). Entries PEFT refuses are reported, and the audit runs
on without them. In PEFT 0.21, fused-expert parameters (``target_parameters``, wrapped by
``lora.ParamWrapper``) and ``nn.MultiheadAttention`` have no DoRA.

Why it matters
--------------
``get_peft_model`` raises on the first such layer, naming a PEFT class rather than your config
entry; on MoE models, where fused experts are the natural target, DoRA and ``target_parameters``
cannot be combined at all.

Example
-------
::

    lora-audit mistralai/Mixtral-8x7B-v0.1 --targets q_proj,v_proj \\
        --target-parameters mlp.experts.gate_up_proj --dora
    # LA021 mlp.experts.gate_up_proj: DoRA does not support fused-expert parameters

Fix
---
Drop ``use_dora``, or keep DoRA to the supported layers (Linear, Embedding, Conv) and adapt the
rest with plain LoRA in a second adapter.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from lora_audit.report import Report
from lora_audit.rules._base import Problem

CODE = "LA021"
NAME = "dora-unsupported"
SEVERITY = "error"


def check(report: Report, options: dict[str, Any]) -> Iterator[Problem]:
    for target in report.targets:
        if target.dropped_kind != "dora-unsupported":
            continue
        types = ", ".join(sorted(target.types)) or "?"
        yield Problem(
            subject=target.pattern,
            message=(
                f"use_dora=True, but DoRA in this PEFT does not support what {target.pattern!r} matches ({types}); "
                f"PEFT refuses the config (audited without this entry). PEFT: {target.dropped}"
            ),
            hint="drop use_dora, or keep DoRA to Linear/Embedding/Conv targets",
        )
