"""The effective LoRA scaling is unusual, or uneven across modules.

What it checks
--------------
The scaling PEFT applies to each adapted module (``alpha/r``, or ``alpha/sqrt(r)`` with rsLoRA,
after ``rank_pattern``/``alpha_pattern``). The rule notes a scaling outside ``min``..``max``
(default 0.25..4), and modules whose scalings differ by more than ``spread`` (default 4x).

Why it matters
--------------
The scaling multiplies every LoRA update: at 0.125 the adapter learns eight times slower than the
usual ``alpha = 2r`` setting; at 16 it is as if the learning rate were eight times higher. A
``rank_pattern`` without the matching ``alpha_pattern`` silently rescales those modules (raising
``r`` from 8 to 64 at fixed alpha divides their scaling by 8).

Example
-------
::

    lora-audit Qwen/Qwen2.5-0.5B --targets q_proj,v_proj -r 64 --alpha 8
    # LA018 scaling: alpha/r = 0.125 is outside 0.25..4

Fix
---
Set ``lora_alpha`` to about ``r`` or ``2r`` (or use rsLoRA for large ranks), and give
``alpha_pattern`` entries alongside ``rank_pattern`` ones.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from lora_audit.report import Report
from lora_audit.rules._base import Problem

CODE = "LA018"
NAME = "scaling"
SEVERITY = "info"
OPTIONS = {"min": 0.25, "max": 4.0, "spread": 4.0}


def _key(scaling: float | None) -> float:
    # Six significant digits, not decimals: a tiny alpha's scaling must not round to 0.
    assert scaling is not None  # check() keeps rows with a scaling only
    return float(f"{scaling:.6g}")


def _fmt(value: float) -> str:
    return f"{value:.4g}"


def check(report: Report, options: dict[str, Any]) -> Iterator[Problem]:
    rows = [r for r in report.adapted_modules if r.scaling is not None]  # LoRA rows all have one
    if not rows:
        return
    formula = "alpha/sqrt(r)" if report.lora_config.get("use_rslora") else "alpha/r"
    lo, hi = float(options["min"]), float(options["max"])
    scalings = sorted({_key(r.scaling) for r in rows})
    outside = [s for s in scalings if not lo <= s <= hi]
    if outside:
        example = next(r for r in rows if _key(r.scaling) == outside[0])
        yield Problem(
            subject="scaling",
            message=(
                f"{formula} = {_fmt(outside[0])} (r={example.r}, alpha={example.alpha}) is outside "
                f"{_fmt(lo)}..{_fmt(hi)}: updates are {'damped' if outside[0] < lo else 'amplified'} "
                f"{_fmt(outside[0] / 2 if outside[0] > 2 else 2 / outside[0])}x against the usual alpha = 2r"
            ),
            hint="set lora_alpha near r or 2r (rsLoRA for large ranks)",
        )
    if len(scalings) > 1 and scalings[-1] / scalings[0] > float(options["spread"]):
        low = next(r for r in rows if _key(r.scaling) == scalings[0])
        high = next(r for r in rows if _key(r.scaling) == scalings[-1])
        yield Problem(
            subject="rank_pattern",
            message=(
                f"scalings differ {_fmt(scalings[-1] / scalings[0])}x across modules: {_fmt(scalings[0])} on "
                f"{low.name} (r={low.r}) against {_fmt(scalings[-1])} on {high.name} (r={high.r})"
            ),
            hint="give alpha_pattern entries alongside rank_pattern ones to keep alpha/r comparable",
        )
