"""The command line: one module per command (``audit``, ``check``, ``diff``, ``rules``), the shared
options and helpers, and what running a command needs beyond the pipeline: the result cache, the
baseline, where output goes (``output``, ``streams``) and batches of audits (``batch``).

``lora-audit`` is :func:`lora_audit.cli.app.main`.
"""

from __future__ import annotations

from lora_audit.cli.app import main

__all__ = ["main"]
