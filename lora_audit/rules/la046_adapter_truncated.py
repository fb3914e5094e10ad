"""A saved adapter file is shorter than its safetensors header says.

What it checks
--------------
The header's data offsets give the size of the data section; the file on disk is compared with
``8 + header + data`` bytes. Only the header is ever read, so the audit itself still runs.

Why it matters
--------------
An interrupted download or copy leaves a file whose header is intact: tools that read headers
only (the hub's file viewer, this audit) see a fine adapter, and loading fails later with an
unreadable-file error.

Example
-------
::

    # on an adapter of your own (not bundled: the rule's tests build one)
    lora-audit Qwen/Qwen2.5-0.5B --adapter ./half-copied-adapter
    # LA046 adapter_model.safetensors: 20,480 of 39,936 data bytes are on disk

Fix
---
Copy or download the adapter again (``hf download ORG/NAME``), and compare its size with the hub's.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from lora_audit.report import Report
from lora_audit.rules._base import Problem

CODE = "LA046"
NAME = "adapter-truncated"
SEVERITY = "error"
METHODS = "targets"


def check(report: Report, options: dict[str, Any]) -> Iterator[Problem]:
    adapter = report.adapter
    table = adapter.table if adapter is not None else None
    if adapter is None or table is None or not table.truncated:
        return
    on_disk = max(0, (table.file_bytes or 0) - 8 - table.header_bytes)
    yield Problem(
        subject=adapter.file,
        message=(
            f"{on_disk:,} of {table.data_bytes:,} data bytes are on disk: the file is truncated and "
            "will not load (its header, all this audit reads, is intact)"
        ),
        hint="copy or download the adapter again",
    )
