"""What a rule is: a module with CODE, NAME, SEVERITY, a docstring, and ``check(report, options)``.

A module may set ``METHODS``: ``"lora"`` (the default: the rule reads LoRA's own fields, ranks or
layers), ``"targets"`` (every PEFT method with ``target_modules``) or ``"all"`` (prompt learning too).
The engine runs a rule only on the methods it names.

``check`` reads the report's facts (never the model) and yields :class:`Problem` records; the
registry turns them into findings with the rule's code, name and (possibly overridden) severity.
The module docstring is the rule's documentation: its first line is the summary, and the
sections ``What it checks``, ``Why it matters``, ``Example`` and ``Fix`` become docs/rules.md
and ``lora-audit rules CODE``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from lora_audit.report import Report


@dataclass(frozen=True)
class Problem:
    subject: str
    message: str
    hint: str
    #: a rule whose findings differ in weight sets it (LA016: an error when names match nothing, info
    #: when PEFT converted them); None means the rule's severity. A user's severity setting wins.
    severity: str | None = None


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    severity: str
    summary: str
    doc: str
    check: Callable[[Report, dict[str, Any]], Iterator[Problem]]
    options: dict[str, Any] = field(default_factory=dict)
    #: PEFT messages this rule reports, so the relay of unclaimed PEFT warnings skips them
    claims: tuple[re.Pattern[str], ...] = ()
    #: the PEFT methods the rule applies to: "lora", "targets" (any method with target_modules) or "all"
    methods: str = "lora"

    def applies_to(self, method: str, prompt_learning: bool) -> bool:
        if self.methods == "all":
            return True
        if self.methods == "targets":
            return not prompt_learning
        return method == "LORA"

    @property
    def applicability(self) -> str:
        """In words, for ``lora-audit rules`` and docs/rules.md."""
        return {"all": "all methods", "targets": "targeted methods"}.get(self.methods, "LoRA only")

    @classmethod
    def from_module(cls, module: ModuleType) -> Rule:
        doc = (module.__doc__ or "").strip()
        summary = doc.splitlines()[0].strip() if doc else module.NAME
        return cls(
            code=module.CODE,
            name=module.NAME,
            severity=module.SEVERITY,
            summary=summary,
            doc=doc,
            check=module.check,
            options=dict(getattr(module, "OPTIONS", {})),
            claims=tuple(getattr(module, "CLAIMS", ())),
            methods=getattr(module, "METHODS", "lora"),
        )

    def sections(self) -> dict[str, str]:
        """The docstring split at its section headings (``What it checks`` ... ``Fix``)."""
        body = self.doc.split("\n", 1)[1] if "\n" in self.doc else ""
        parts = re.split(r"^(\w[\w ]+)\n-{3,}\n", body, flags=re.M)
        out = {"intro": parts[0].strip()}
        for title, text in zip(parts[1::2], parts[2::2], strict=True):
            out[title.strip()] = text.strip("\n")
        return out


def plural(n: int, word: str, suffix: str = "s") -> str:
    return f"{n:,} {word}{'' if n == 1 else suffix}"
