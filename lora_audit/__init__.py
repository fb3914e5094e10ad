"""lora-audit: see what a LoRA config does to a Hugging Face model before you train.

>>> import lora_audit
>>> report = lora_audit.audit("Qwen/Qwen2.5-0.5B", {"r": 8, "target_modules": ["q_proj", "v_proj"]})
>>> report.ok
True

Heavy libraries (torch, transformers, peft) are imported only when an audit runs.
"""

from __future__ import annotations

from typing import Any

from lora_audit import pipeline
from lora_audit._version import __version__
from lora_audit.errors import AuditError
from lora_audit.report import Finding, Report

__all__ = ["audit", "AuditError", "Report", "Finding", "__version__"]


def audit(model: Any, lora_config: Any = None, **kwargs: Any) -> Report:
    """Audit a LoRA config against a model, weightlessly. See :func:`lora_audit.pipeline.audit`."""
    return pipeline.audit(model, lora_config, **kwargs)
