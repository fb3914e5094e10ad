"""layers_to_transform names layers the model does not have, or layers_pattern matches nothing.

What it checks
--------------
``layers_to_transform`` indices are compared with the model's repeated blocks (``num_hidden_layers``
and the actual containers, such as ``model.layers``), and ``layers_pattern`` with the names of
those containers.

Why it matters
--------------
PEFT filters matches by layer index silently: an index past the last layer selects nothing, and a
``layers_pattern`` that names no container (``h`` on a Llama, ``layers`` on GPT-2) filters out
everything. Configs copied between model sizes (a 32-layer recipe on a 24-layer model) hit this.

Example
-------
::

    lora-audit Qwen/Qwen2.5-0.5B --targets q_proj,v_proj --layers 20-31
    # LA011 layers_to_transform: layers 24-31 do not exist (model.layers has 0-23)

Fix
---
Use indices within the model's range (see ``--coverage``), and a ``layers_pattern`` that names the
block container (``layers`` for Llama-style models, ``h`` for GPT-2, ``layer`` for BERT).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from lora_audit.naming import ranges
from lora_audit.report import Report
from lora_audit.rules._base import Problem
from lora_audit.rules._facts import containers

CODE = "LA011"
NAME = "layers-out-of-range"
SEVERITY = "error"
METHODS = "targets"


def check(report: Report, options: dict[str, Any]) -> Iterator[Problem]:
    layers = report.lora_config.get("layers_to_transform")
    if layers is None:
        return
    wanted = sorted({layers} if isinstance(layers, int) else set(layers))
    blocks = containers(report)
    pattern = report.lora_config.get("layers_pattern")
    patterns = [pattern] if isinstance(pattern, str) else list(pattern or [])
    if patterns:
        named = {c: idx for c, idx in blocks.items() if c.rsplit(".", 1)[-1] in patterns}
        if not named:
            names = ", ".join(sorted({c.rsplit('.', 1)[-1] for c in blocks})) or "none"
            yield Problem(
                subject="layers_pattern",
                message=f"layers_pattern {patterns} names no layer container of the model (its containers: {names})",
                hint=f"use one of: {names}",
            )
            return
        blocks = named
    if not blocks:
        return
    available = set().union(*map(set, blocks.values()))
    missing = [i for i in wanted if i not in available]
    if missing:
        where = "; ".join(f"{c} has {ranges(idx)}" for c, idx in blocks.items())
        yield Problem(
            subject="layers_to_transform",
            message=f"layers {ranges(missing)} do not exist ({where}): those indices select nothing",
            hint=f"use indices within {ranges(sorted(available))}",
        )
