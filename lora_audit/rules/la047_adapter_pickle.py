"""A saved adapter is a pickle file (``adapter_model.bin``): it cannot be inspected safely.

What it checks
--------------
The adapter's weights are ``adapter_model.bin`` (a PyTorch pickle) rather than
``adapter_model.safetensors``. lora-audit never unpickles a file: its keys and shapes are not
checked, only its adapter_config.json.

Why it matters
--------------
Unpickling runs whatever code the file carries. And without its tensor table none of the key and
shape checks (LA040-LA046) can run: the audit covers the config alone.

Example
-------
::

    # on an adapter of your own (not bundled: the rule's tests build one)
    lora-audit Qwen/Qwen2.5-0.5B --adapter ./old-adapter
    # LA047 adapter_model.bin: a pickle file, not inspected

Fix
---
Convert it once, in an environment you trust, and audit the result::

    import torch, safetensors.torch
    sd = torch.load("adapter_model.bin", weights_only=True)
    safetensors.torch.save_file(sd, "adapter_model.safetensors")
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from lora_audit.report import Report
from lora_audit.rules._base import Problem

CODE = "LA047"
NAME = "adapter-pickle"
SEVERITY = "warning"
METHODS = "targets"


def check(report: Report, options: dict[str, Any]) -> Iterator[Problem]:
    adapter = report.adapter
    if adapter is None or adapter.format != "pickle":
        return
    yield Problem(
        subject=adapter.file,
        message="the adapter's weights are a pickle file: lora-audit never unpickles, so its keys and shapes "
        "are not checked (only adapter_config.json is)",
        hint="convert it: torch.load(path, weights_only=True), then safetensors.torch.save_file(..., "
        "'adapter_model.safetensors'), and audit again",
    )
