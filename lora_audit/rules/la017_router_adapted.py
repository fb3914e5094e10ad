"""A MoE router (gate) is adapted.

What it checks
--------------
Adapted modules or parameters that are a mixture-of-experts router: a ``gate`` (or ``router``)
inside an MoE block, whether reached through ``target_modules`` or ``target_parameters``
(``all-linear`` does this on some MoE models, where PEFT adds ``gate.weight``).

Why it matters
--------------
The router decides which experts see each token. Adapting it shifts load between experts, can
collapse routing onto a few of them, and interacts with the auxiliary load-balancing loss; most MoE
fine-tuning recipes keep it frozen. With ``all-linear`` it happens without the router ever being
named.

Example
-------
::

    lora-audit mistralai/Mixtral-8x7B-v0.1 --targets all-linear
    # LA017 model.layers.(0-31).mlp.gate.weight: the MoE router is adapted

Fix
---
List the targets explicitly without the router, or keep it out with ``exclude_modules`` (for a
module router) / by leaving ``gate.weight`` out of ``target_parameters``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from lora_audit.report import Report
from lora_audit.rules._base import Problem
from lora_audit.rules._facts import group_subject, row_groups

CODE = "LA017"
NAME = "router-adapted"
SEVERITY = "warning"
_ROUTER = re.compile(r"(^|\.)(gate|router)(\.weight)?$")


def _is_router(name: str, report: Report) -> bool:
    if not _ROUTER.search(name):
        return False
    # ``gate`` is a router only inside an MoE block (a sibling ``experts``), not a GLU gate projection.
    block = re.sub(r"\.(gate|router)(\.weight)?$", "", name)
    return any(m.name == f"{block}.experts" or m.name.startswith(f"{block}.experts.") for m in report.modules)


def check(report: Report, options: dict[str, Any]) -> Iterator[Problem]:
    for rows in row_groups([r for r in report.adapted_modules if _is_router(r.name, report)]).values():
        yield Problem(
            subject=group_subject(rows),
            message=(
                f"the MoE router is adapted ({len(rows)} module(s), {rows[0].kind}): it decides which experts see "
                "each token, and most MoE recipes keep it frozen"
            ),
            hint="list targets without the router (or exclude it); adapt it only on purpose",
        )
