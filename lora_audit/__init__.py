"""lora-audit: see what a LoRA config does to a Hugging Face model before you train.

>>> import lora_audit
>>> report = lora_audit.audit("Qwen/Qwen2.5-0.5B", {"r": 8, "target_modules": ["q_proj", "v_proj"]})
>>> report.ok
True

Heavy libraries (torch, transformers, peft) are imported only when an audit runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lora_audit._version import __version__
from lora_audit.errors import AuditError

if TYPE_CHECKING:
    from lora_audit.report import Finding, Report

__all__ = ["audit", "AuditError", "Report", "Finding", "__version__"]


def audit(model: Any, lora_config: Any = None, **kwargs: Any) -> Report:
    """Audit a LoRA config against a model, weightlessly. See :func:`lora_audit.pipeline.audit`."""
    from lora_audit.pipeline import audit as _audit

    return _audit(model, lora_config, **kwargs)


def __getattr__(name: str) -> Any:
    if name in ("Report", "Finding"):
        from lora_audit import report

        return getattr(report, name)
    raise AttributeError(f"module 'lora_audit' has no attribute {name!r}")
