"""The adapter's ``base_model_name_or_path`` names another model than the base audited.

What it checks
--------------
``base_model_name_or_path`` in adapter_config.json against the base given on the command line
(``lora-audit BASE --adapter ...``), ignoring case and a trailing slash (two paths to one
directory are the same base). Informational only: a
local training path (``/data/llama``) or a renamed mirror is common and harmless; the shape and
key rules (LA040-LA044) decide whether the adapter fits.

Why it matters
--------------
When the names differ and the shapes fit, the adapter probably fits a same-sized sibling (a base
against an instruct model, another revision): it loads, but was trained for other weights.

Example
-------
::

    # on an adapter of your own (not bundled: the rule's tests build one)
    lora-audit Qwen/Qwen2.5-0.5B-Instruct --adapter ./adapter    # trained on Qwen/Qwen2.5-0.5B
    # LA045 Qwen/Qwen2.5-0.5B: the adapter names another base

Fix
---
Check that the base is the one the adapter was trained on; ignore this finding for local paths
and mirrors (``--ignore LA045``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from lora_audit.report import Report
from lora_audit.rules._base import Problem

CODE = "LA045"
NAME = "adapter-base-name"
SEVERITY = "info"
METHODS = "targets"


def check(report: Report, options: dict[str, Any]) -> Iterator[Problem]:
    adapter = report.adapter
    if adapter is None or adapter.base_names_match:
        return
    claimed, given = adapter.base_model_name_or_path, adapter.base_given
    yield Problem(
        subject=str(claimed),
        message=f"the adapter's base_model_name_or_path is {claimed!r}, the base audited is {given!r}",
        hint="make sure this is the base the adapter was trained on (a local path or mirror of it is fine)",
    )
