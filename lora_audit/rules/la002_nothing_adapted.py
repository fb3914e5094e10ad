"""The config adapts nothing at all.

What it checks
--------------
Fires when PEFT created no LoRA layer: every entry matched nothing, every match was excluded
(``exclude_modules``, ``modules_to_save``), ``layers_to_transform`` filtered out every match,
or the model type has no PEFT default targets and none were given. The message says which.

Why it matters
--------------
``get_peft_model`` raises in this case, usually with a message that names the symptom but not the
cause. lora-audit reports it beside everything else it found, with the cause and a fix.

Example
-------
::

    lora-audit microsoft/Phi-3-mini-4k-instruct
    # LA002: PEFT has no default target_modules for phi3; did you mean --targets qkv_proj,o_proj?

Fix
---
Give ``--targets`` with names from the model (``lora-audit MODEL --tree``), or ``all-linear``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from lora_audit.report import Report
from lora_audit.rules._base import Problem
from lora_audit.rules._suggest import ROLES, adaptable_leaf_names

CODE = "LA002"
NAME = "nothing-adapted"
SEVERITY = "error"
METHODS = "targets"


def attention_targets(report: Report) -> list[str]:
    """The attention projections this model has, by role (for a suggested --targets)."""
    present = adaptable_leaf_names(report)
    out: list[str] = []
    for role in ("qkv", "q", "k", "v", "o"):
        for name in ROLES[role]:
            if name in present and name not in out:
                out.append(name)
                break
    return out


def check(report: Report, options: dict[str, Any]) -> Iterator[Problem]:
    if report.adapted_modules:
        return
    error = report.apply_error.message if report.apply_error else ""
    suggested = attention_targets(report)
    suggestion = f"--targets {','.join(suggested)}" if suggested else "--targets all-linear"
    defaults = next((t for t in report.targets if t.kind == "defaults"), None)
    filtered = [t for t in report.targets if t.matched_without_layer_filter]
    if defaults is not None and defaults.resolved and "target_modules" in error:
        why = (
            f"PEFT has default targets for {report.model.model_type} ({', '.join(defaults.resolved)}) "
            f"but did not apply them: {error}"
        )
        hint = f"pass the targets explicitly: --targets {','.join(defaults.resolved)}"
    elif defaults is not None:
        why = f"no target_modules were given and PEFT has no default targets for {report.model.model_type}"
        hint = f"give targets, e.g. {suggestion} (or all-linear)"
    elif "All modules were excluded" in error:
        why = "every module the targets match is excluded (exclude_modules or modules_to_save)"
        hint = "narrow exclude_modules, or take the module out of modules_to_save"
    elif filtered:
        why = "the targets match, but layers_to_transform / layers_pattern filter out every match"
        hint = "check --layers against the model's layer indices and --layers-pattern against its layer container"
    elif report.targets and not any(t.matched for t in report.targets):
        why = "no target entry matches any module of the model"
        hint = f"use this model's names, e.g. {suggestion}; `lora-audit MODEL --tree` lists them"
    elif error:
        why = f"PEFT refused the config: {error}"
        hint = "see the other findings for the entries PEFT refused"
    else:
        why = "PEFT created no LoRA layer"
        hint = f"give targets, e.g. {suggestion}"
    yield Problem(subject="target_modules", message=f"nothing is adapted: {why}", hint=hint)
