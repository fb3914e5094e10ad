"""An entry reaches only one part of a composite model, or only some of its blocks.

What it checks
--------------
For each target entry, where its adapted modules sit among the model's repeated blocks: in only
one of several block containers (encoder but not decoder, language model but not vision tower), or
in only some blocks of a container although no ``layers_to_transform`` asked for that. The finding
says where it matched.

Why it matters
--------------
Composite models name the same role differently in each part (Qwen2-VL's vision blocks use a
fused ``qkv``, its language model ``q_proj``), so an entry written for one part silently skips the
other. That may be what you want; this makes it visible.

Example
-------
::

    lora-audit Qwen/Qwen2-VL-2B-Instruct --targets q_proj,v_proj
    # LA022 q_proj: matches only in model.language_model.layers, not in model.visual.blocks

Fix
---
If the other part should train too, add its names (``--tree`` shows them, e.g. ``qkv`` for the
vision blocks); otherwise nothing to do (suppress with a reason). An entry that is one module's full
path (as LLaMA-Factory hands PEFT for a vision-language model) is taken as meant. An entry that
adapts only attention projections is not said to miss blocks that have no attention (a UNet's
resnets and its attention-free first down block).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from ..naming import indexed, ranges
from ..report import Report
from ._base import Problem
from ._facts import containers

CODE = "LA022"
NAME = "partial-coverage"
SEVERITY = "info"


def check(report: Report, options: dict[str, Any]) -> Iterator[Problem]:
    blocks = containers(report)
    if not blocks or report.lora_config.get("layers_to_transform") is not None:
        return
    # Only top-level containers: nested ones (experts inside layers) repeat their parents' story.
    top = {c: idx for c, idx in blocks.items() if not any(c.startswith(o + ".") for o in blocks if o != c)}
    attention_modules, attention_holders = _attention_places(report)
    for target in report.targets:
        if target.unadapted_after_conversion:
            continue  # PEFT moved the entry to fused experts: LA016 says what it left out
        if target.modules == [target.pattern]:
            continue  # a module's full path names that one module on purpose (LLaMA-Factory writes VLM targets so)
        hit: dict[str, set[int]] = defaultdict(set)
        for block in report.coverage:
            if block.container in top and block.adapted.get(target.pattern):
                hit[block.container].add(block.index)
        if not hit:
            continue
        # An entry that adapts attention projections only can miss only places that have attention:
        # a UNet's resnets and its attention-free first down block are not gaps.
        only_attention = all(_inside(name, attention_modules) for name in target.modules)

        def gap(place: str) -> bool:
            return not only_attention or place in attention_holders  # noqa: B023 - used within this iteration

        missed = [c for c in top if c not in hit and gap(c)] if len(top) > 1 else []
        if missed:
            yield Problem(
                subject=target.pattern,
                message=(
                    f"{target.pattern!r} matches only in {', '.join(sorted(hit))}, not in {', '.join(missed)}"
                ),
                hint="add the other part's names if it should train too (--tree lists them)",
            )
        for container, indices in hit.items():
            missing = sorted(i for i in set(top[container]) - indices if gap(f"{container}.{i}"))
            if missing:
                yield Problem(
                    subject=target.pattern,
                    message=(
                        f"{target.pattern!r} adapts modules in {indexed(container, indices)} only; "
                        f"blocks {ranges(missing)} get nothing from it"
                    ),
                    hint="check that the name exists in every block you meant to adapt (--coverage)",
                )


def _attention_places(report: Report) -> tuple[set[str], set[str]]:
    """Attention modules (their class name says Attention or Attn), and every path that holds one."""
    modules = {m.name for m in report.modules if m.name and ("attention" in m.type.lower() or "attn" in m.type.lower())}
    holders = set()
    for name in modules:
        parts = name.split(".")
        holders.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
    return modules, holders


def _inside(name: str, attention_modules: set[str]) -> bool:
    parts = name.split(".")
    return any(".".join(parts[:i]) in attention_modules for i in range(1, len(parts)))
