"""Adapters reach only a small share of the model's repeated blocks.

What it checks
--------------
For each container of repeated blocks that any adapter reaches (``model.layers``), the share of its
blocks that got at least one adapter. Below ``min-share`` (default 0.5) the rule fires, naming the
untouched blocks and what makes them different. Containers no adapter reaches at all are LA022's,
and a ``layers_to_transform`` that asks for few layers is taken as meant.

Why it matters
--------------
On hybrid models (Mamba or linear-attention blocks between attention blocks) attention-only targets
adapt a few blocks out of many; on models whose blocks differ (DeepSeek-V3's first dense layers
against its MoE layers) a name can exist in only some of them. The run trains a small corner of
the network while looking like an ordinary LoRA run.

Example
-------
::

    lora-audit google-t5/t5-base --targets relative_attention_bias
    # LA023 encoder.block: adapters reach 1 of 12 blocks (8%): encoder.block.0 only

Fix
---
Add targets that exist in the other blocks (``--coverage`` and ``--tree`` show them), or accept it
knowingly (suppress with a reason).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from lora_audit.naming import indexed
from lora_audit.report import Report
from lora_audit.rules._base import Problem

CODE = "LA023"
NAME = "low-block-coverage"
SEVERITY = "warning"
METHODS = "targets"
OPTIONS = {"min_share": 0.5}


def _signature(block: str, report: Report) -> str:
    """``DeepseekV3DecoderLayer (mlp: DeepseekV3MoE)``: the block type and its direct children's types."""
    prefix = block + "."
    children = [m for m in report.modules if m.name.startswith(prefix) and "." not in m.name[len(prefix):]]
    return ", ".join(f"{m.name[len(prefix):]}: {m.type}" for m in children)


def check(report: Report, options: dict[str, Any]) -> Iterator[Problem]:
    layers = report.lora_config.get("layers_to_transform")
    if layers is not None:
        return
    by_container = defaultdict(list)
    for block in report.coverage:
        by_container[block.container].append(block)
    for container, blocks in by_container.items():
        reached = [b for b in blocks if any(b.adapted.values())]
        if not reached:
            continue
        share = len(reached) / len(blocks)
        if share >= float(options["min_share"]):
            continue
        untouched = [b for b in blocks if b not in reached]
        kinds = sorted({f"{b.block_type} ({_signature(f'{container}.{b.index}', report)})" for b in untouched})
        yield Problem(
            subject=container,
            message=(
                f"adapters reach {len(reached)} of {len(blocks)} blocks ({100 * share:.0f}%): "
                f"{indexed(container, (b.index for b in reached))} only; untouched "
                f"{indexed(container, (b.index for b in untouched))}, of type {'; '.join(kinds)[:300]}"
            ),
            hint="add targets that exist in the untouched blocks (--coverage, --tree), or suppress with a reason",
        )
