"""A saved adapter was trained on another base: hidden size, layer count or architecture differ.

What it checks
--------------
From the shapes and keys in the adapter's header: the hidden size its LoRA matrices were built
for (where the base's hidden size appears as in or out features), the number of blocks its keys
cover, and whether any key at all matches what PEFT creates on this base. When one disagrees with
the base, the finding says which base the shapes fit (hidden size and block count, and the
bundled catalogue's models with those sizes).

Why it matters
--------------
An adapter for Llama-3-8B loaded onto Llama-3.2-3B, or onto another family, fails after the full
download, or (with a layer count that is only smaller) loads part of itself silently.

Example
-------
::

    # on an adapter of your own (not bundled: the rule's tests build one)
    lora-audit meta-llama/Llama-3.2-3B --adapter ./llama3-8b-adapter
    # LA044 the adapter fits hidden size 4096 and 32 layers; this base has 3072 and 28

Fix
---
Audit (and load) the adapter with the base it was trained on: its ``base_model_name_or_path``,
or a model with the sizes the finding names.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from lora_audit.report import Report
from lora_audit.rules._adapter import compared, explained_by_hidden, explained_by_layers
from lora_audit.rules._base import Problem

CODE = "LA044"
NAME = "adapter-wrong-base"
SEVERITY = "error"
METHODS = "targets"


def check(report: Report, options: dict[str, Any]) -> Iterator[Problem]:
    comparison = compared(report)
    if report.adapter is None or comparison is None:
        return
    fits, base = comparison.fits, report.adapter.base
    parts_file, parts_base = [], []
    if fits.hidden_differs:
        parts_file.append(f"hidden size {fits.hidden_size:,}")
        parts_base.append(f"{base.hidden_size:,}")
    if fits.layers_differ:
        parts_file.append(f"{fits.num_layers} layers")
        parts_base.append(f"{fits.expected_num_layers} adapted layers")
    no_match = comparison.matched == 0 and comparison.unexpected_count > 0
    if not parts_file and not no_match:
        return
    base_name = report.adapter.base_given or report.model.name
    if parts_file:
        sized = sum(explained_by_hidden(comparison, r) for r in comparison.mismatched)
        layered = sum(explained_by_layers(comparison, k) for k in comparison.missing + comparison.unexpected)
        effects = []
        if sized:
            effects.append(f"{sized:,} tensors have other sizes")
        if layered:
            effects.append(f"{layered:,} keys belong to blocks only one side has")
        message = (
            f"the adapter's shapes fit {' and '.join(parts_file)}; {report.model.class_name} has "
            f"{' and '.join(parts_base)}: it was trained on another base"
            + (f" ({', '.join(effects)})" if effects else "")
        )
    else:
        message = (
            f"no tensor of the adapter matches a parameter PEFT creates on {report.model.class_name} "
            f"({comparison.unexpected_count:,} unexpected): it was saved for another architecture or with other names"
        )
    candidates = fits.candidates or []
    claimed = report.adapter.base_model_name_or_path
    hint = "audit the adapter against the base it was trained on"
    if claimed and claimed != base_name:
        hint += f" (its base_model_name_or_path says {claimed})"
    if candidates:
        hint += f"; bundled models with these sizes: {', '.join(candidates[:4])}"
    yield Problem(subject=base_name, message=message, hint=hint)
