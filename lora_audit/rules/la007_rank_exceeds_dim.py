"""The rank is larger than the module can use.

What it checks
--------------
For every adapted module, ``r`` (after ``rank_pattern``) is compared with ``min(d, k)``, the
largest rank a ``d x k`` update can have (for a convolution, k is ``c_in·kh·kw``: its LoRA A is
a convolution with the same kernel). Identical modules of repeated blocks are reported once.

Why it matters
--------------
``B·A`` of a ``d x k`` module has rank at most ``min(d, k)``: every rank above it is parameters
and optimizer state that can never change the update. It usually comes from a global ``r`` chosen
for wide layers and applied to a narrow one (a GQA key/value projection, a router, a low-rank
projection such as DeepSeek's ``q_a_proj``).

Example
-------
::

    lora-audit Qwen/Qwen2.5-0.5B --targets k_proj,v_proj -r 256
    # LA007 model.layers.(0-23).self_attn.k_proj: r=256 > min(d, k) = 128

Fix
---
Cap the rank for these modules with ``rank_pattern`` (``--rank-pattern k_proj=64``), or lower ``r``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from lora_audit.naming import input_size
from lora_audit.report import Report
from lora_audit.rules._base import Problem
from lora_audit.rules._facts import effective_in, group_subject, row_groups

CODE = "LA007"
NAME = "rank-exceeds-dim"
SEVERITY = "warning"


def check(report: Report, options: dict[str, Any]) -> Iterator[Problem]:
    for rows in row_groups(report.adapted_modules).values():
        over = [r for r in rows if r.r is not None and r.r > min(effective_in(r), r.out_features)]
        if not over:
            continue
        row = over[0]
        assert row.r is not None  # the filter above
        cap = min(effective_in(row), row.out_features)
        k = input_size(row.in_features, row.kernel_size)
        yield Problem(
            subject=group_subject(over),
            message=(
                f"r={row.r} > min(d, k) = {cap} (k={k}, d={row.out_features}): "
                f"{row.r - cap} of the {row.r} ranks can never be used"
            ),
            hint=f"cap the rank at {cap} or below here (--rank-pattern {row.name.rsplit('.', 1)[-1]}={cap})",
        )
