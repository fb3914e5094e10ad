"""LoRA on a module costs as much as training it in full.

What it checks
--------------
For every adapted module, the LoRA parameters ``r·(d+k)`` (as PEFT created them) are compared with
the parameters of the weight they adapt, ``d·k``. The rule fires when LoRA is not smaller.
Identical modules of repeated blocks are reported once.

Why it matters
--------------
LoRA saves memory and optimizer state only while ``r`` is well below ``d·k/(d+k)``. Past that
point the adapter is as large as the weight, trains no faster, and still constrains the update to
rank ``r``: full fine-tuning of that module (``modules_to_save``) would be simpler and at least
as expressive. It happens with large ranks on narrow projections (GQA key/value projections,
routers, small heads).

Example
-------
::

    lora-audit Qwen/Qwen2.5-0.5B --targets q_proj,k_proj,v_proj -r 128
    # LA006 model.layers.(0-23).self_attn.k_proj: r·(d+k) = 131,072 >= d·k = 114,688

Fix
---
Lower ``r`` for these modules (``--rank-pattern k_proj=16``), or train them in full with
``modules_to_save``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from lora_audit.naming import input_size
from lora_audit.report import Report
from lora_audit.rules._base import Problem
from lora_audit.rules._facts import effective_in, group_subject, row_groups

CODE = "LA006"
NAME = "no-savings"
SEVERITY = "warning"


def check(report: Report, options: dict[str, Any]) -> Iterator[Problem]:
    for rows in row_groups(report.adapted_modules).values():
        costly = [r for r in rows if r.dense_params and r.lora_params >= r.dense_params]
        if not costly:
            continue
        row = costly[0]
        k = effective_in(row)  # a convolution's A sees c_in·kh·kw inputs
        limit = max(1, (k * row.out_features) // (k + row.out_features))
        yield Problem(
            subject=group_subject(costly),
            message=(
                f"r·(d+k) = {row.lora_params:,} >= d·k = {row.dense_params:,} "
                f"(r={row.r}, k={input_size(row.in_features, row.kernel_size)}, d={row.out_features}"
                + (f", {len(costly)} modules" if len(costly) > 1 else "")
                + "): LoRA here is no smaller than the weight it adapts"
            ),
            hint=f"use r < {limit} for these modules (rank_pattern), or train them in full via modules_to_save",
        )
