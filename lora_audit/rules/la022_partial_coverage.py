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
path (as LLaMA-Factory hands PEFT for a vision-language model) is taken as meant. For an entry that
adapts attention projections only, these are not gaps: blocks without attention (a UNet's resnets
and its attention-free first down block), and blocks whose attention is of the same class but built
without that projection (Flux's single-stream attention has no ``add_k_proj`` or ``to_out``; T5's
``relative_attention_bias`` exists in block 0 only, which LA023 reports).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from lora_audit.naming import indexed, ranges
from lora_audit.report import Report
from lora_audit.rules._base import Problem
from lora_audit.rules._facts import containers

CODE = "LA022"
NAME = "partial-coverage"
SEVERITY = "info"
METHODS = "targets"


def check(report: Report, options: dict[str, Any]) -> Iterator[Problem]:
    blocks = containers(report)
    if not blocks or report.lora_config.get("layers_to_transform") is not None:
        return
    # Only top-level containers: nested ones (experts inside layers) repeat their parents' story.
    top = {c: idx for c, idx in blocks.items() if not any(c.startswith(o + ".") for o in blocks if o != c)}
    types = {m.name: m.type for m in report.modules}
    kinds_under = _kinds_under(report)
    attention_modules = {name for name, kind in types.items() if name and _attention(kind)}
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
        # Not gaps, for an entry that adapts attention projections only: places without attention (a
        # UNet's resnets, its attention-free first down block), and places whose attention is of the same
        # class, built without this projection (Flux's single-stream attention has no add_k_proj, to_out).
        owners = [_attention_owner(name, attention_modules) for name in target.modules]
        only_attention = all(owners)
        attention_kinds = {types[owner] for owner in owners if owner}

        def gap(place: str, only_attention: bool = only_attention, attention_kinds: set[str] = attention_kinds) -> bool:
            kinds = kinds_under.get(place, set())
            return not only_attention or (any(_attention(kind) for kind in kinds) and not attention_kinds & kinds)

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


def _attention(kind: str) -> bool:
    """An attention module: its class name says Attention or Attn."""
    return "attention" in kind.lower() or "attn" in kind.lower()


def _kinds_under(report: Report) -> dict[str, set[str]]:
    """For every module path, the classes of the modules below it (``down_blocks.0`` -> {ResnetBlock2D, ...})."""
    out: dict[str, set[str]] = defaultdict(set)
    for module in report.modules:
        parts = module.name.split(".")
        for i in range(1, len(parts)):
            out[".".join(parts[:i])].add(module.type)
    return out


def _attention_owner(name: str, attention_modules: set[str]) -> str | None:
    """The nearest attention module that holds ``name`` (``...attn`` for ``...attn.to_out.0``), if any."""
    parts = name.split(".")
    return next((".".join(parts[:i]) for i in range(len(parts) - 1, 0, -1)
                 if ".".join(parts[:i]) in attention_modules), None)
