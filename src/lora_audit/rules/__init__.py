"""The rule registry: one module per rule, documented in its docstring.

Adding a rule is one file in this package and one line in ``_MODULES``.
"""

from __future__ import annotations

from ..errors import AuditError
from . import (
    la001_target_unmatched,
    la002_nothing_adapted,
    la003_modules_to_save_unmatched,
    la024_peft_warning,
)
from ._base import Problem, Rule

_MODULES = (
    la001_target_unmatched,
    la002_nothing_adapted,
    la003_modules_to_save_unmatched,
    la024_peft_warning,
)

RULES: list[Rule] = sorted((Rule.from_module(m) for m in _MODULES), key=lambda r: r.code)
BY_CODE = {r.code: r for r in RULES}
BY_NAME = {r.name: r for r in RULES}


def resolve_code(key: str, where: str = "") -> str:
    """``LA003`` or ``modules-to-save-unmatched`` -> ``LA003``."""
    key = key.strip()
    if key.upper() in BY_CODE:
        return key.upper()
    if key.lower() in BY_NAME:
        return BY_NAME[key.lower()].code
    place = f" in {where}" if where else ""
    raise AuditError(
        "unknown-rule",
        f"{key!r}{place} is not a rule code or name",
        "`lora-audit rules` lists them (codes LA001..., or names such as target-unmatched)",
    )


def claimed(message: str) -> bool:
    """Whether a rule reports this PEFT message in its own words."""
    return any(p.search(message) for rule in RULES for p in rule.claims)


__all__ = ["RULES", "BY_CODE", "Problem", "Rule", "resolve_code", "claimed"]
