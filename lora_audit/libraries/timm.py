"""timm models: a config.json with ``architecture`` (timm's hub format). Not supported in this version.

timm needs torchvision, and no torchvision release installs beside the torch this project pins
(pip replaces torch to satisfy it), so the builder could not be tested here. Rather than ship an
untested count, a timm config is refused with an error that says so.
"""

from __future__ import annotations

from typing import Any

from ..build import BuiltModel
from ..errors import AuditError
from ..source import ModelSource

NAME = "timm"


def detect(source: ModelSource) -> bool:
    return "model_type" not in source.config and isinstance(source.config.get("architecture"), str)


def build(source: ModelSource, **_: Any) -> BuiltModel:
    raise AuditError(
        "library-unsupported",
        f"{source.description} is a timm model ({source.config['architecture']}); this version of lora-audit does "
        "not build timm models",
        "audit it from Python: build the model with timm and pass the nn.Module to lora_audit.audit()",
    )
