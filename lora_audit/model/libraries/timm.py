"""timm models: a config.json with ``architecture``, the format timm publishes on the hub.

The model is built by timm itself: ``timm.create_model("local-dir:<dir>", pretrained=False)``
under ``torch.device("meta")``, so the file is read exactly as ``create_model("hf-hub:<id>")``
reads a hub repository: ``architecture`` names the registered model, ``model_args`` become
keyword arguments, and ``num_classes`` (top level or in ``pretrained_cfg``) sizes the head. No
weights are read or allocated (``pretrained=False``). The config is handed to timm as a copy in a
private temporary directory, so a file of any name, or at a path with characters timm's
``local-dir:`` parsing treats specially, reads the same.

Reproduces timm 1.0.31 (PyPI; ``timm/models/_factory.py`` ``create_model`` /
``_resolve_model_source`` and ``timm/models/_hub.py`` ``load_model_config_from_path`` /
``_parse_model_cfg``). ``local-dir:`` exists since timm 1.0.16, hence the extra's lower bound.
"""

from __future__ import annotations

import importlib.util
import json
import tempfile
from pathlib import Path
from typing import Any

from lora_audit.errors import AuditError, first_line
from lora_audit.model.build import BuiltModel, build_first, refuse_too_deep
from lora_audit.model.libraries._extras import install_hint
from lora_audit.model.source import ModelSource

NAME = "timm"
EXTRA_HINT = install_hint("timm", "timm") + ", and a torchvision built for your torch"
MIN_VERSION = (1, 0, 16)


def detect(source: ModelSource) -> bool:
    return "model_type" not in source.config and isinstance(source.config.get("architecture"), str)


def build(source: ModelSource, task_type: str | None = None, model_class: str | None = None, **_: Any) -> BuiltModel:
    timm = _import_timm(source)
    raw = dict(source.config)
    architecture = raw["architecture"]
    for flag, value in (("--task-type", task_type), ("--model-class", model_class)):
        if value:
            raise AuditError(
                "task-type-not-applicable",
                f"{flag} {value} names a transformers head; {architecture} is a timm model, whose head is sized "
                "by num_classes",
                f"drop {flag} (set num_classes in the model's config.json to change the head)",
            )
    refuse_too_deep(raw)
    if not timm.is_model(architecture):
        raise AuditError(
            "unknown-timm-model",
            f"timm {timm.__version__} has no model {architecture!r}",
            "a newer timm may (pip install -U timm); check the architecture in the model's config.json",
        )
    text = json.dumps(raw)

    def factory() -> Any:
        import torch

        with tempfile.TemporaryDirectory(prefix="lora-audit-timm-") as tmp:
            (Path(tmp) / "config.json").write_text(text, encoding="utf-8")
            with torch.device("meta"):
                return timm.create_model(f"local-dir:{tmp}", pretrained=False)

    model, messages, fresh = build_first(
        factory, f"timm model {architecture}",
        "check model_args and num_classes in the config, or fetch a fresh copy of the model's config.json")
    class_name = type(model).__name__
    head = getattr(model, "num_classes", None)
    notes = [
        f"timm: built {architecture} with timm.create_model(pretrained=False)"
        + (f", {head} classes" if isinstance(head, int) and head else ", no classifier head" if head == 0 else "")
    ]
    return BuiltModel(
        factory=fresh,
        class_name=class_name,
        model_type=architecture,
        config=None,
        messages=messages,
        notes=notes,
        library=NAME,
    )


def require(source: ModelSource) -> None:
    """timm is not installed at all: said before torch is imported (a broken install is found by importing it)."""
    if importlib.util.find_spec("timm") is None:
        raise AuditError("library-missing", f"{_description(source)}, and timm is not installed", EXTRA_HINT)


def _description(source: ModelSource) -> str:
    return f"{source.description} is a timm model ({source.config.get('architecture')})"


def _import_timm(source: ModelSource) -> Any:
    description = _description(source)
    try:
        import timm
    except ImportError as exc:
        missing = getattr(exc, "name", None) or ""
        if missing.split(".", 1)[0] == "torchvision" or "torchvision" in str(exc):
            raise AuditError(
                "library-missing",
                f"{description}, and timm cannot be imported: it needs torchvision ({first_line(exc, 120)})",
                "install the torchvision release built for your torch (pip install torchvision), then timm",
            ) from None
        raise AuditError("library-missing", f"{description}, and timm is not installed", EXTRA_HINT) from None
    except Exception as exc:  # noqa: BLE001 - e.g. a torchvision whose compiled ops do not match torch
        raise AuditError(
            "library-missing",
            f"{description}, and importing timm failed: {type(exc).__name__}: {first_line(exc, 120)}",
            "install the torchvision release built for your torch (pip install torchvision), then timm",
        ) from None
    if _version_tuple(timm.__version__) < MIN_VERSION:
        raise AuditError(
            "library-missing",
            f"{description}, and timm {timm.__version__} is too old to read it (local-dir: configs need "
            f"{'.'.join(map(str, MIN_VERSION))} or newer)",
            "pip install -U timm",
        )
    return timm


def _version_tuple(text: str) -> tuple[int, ...]:
    parts = []
    for part in text.split(".")[:3]:
        digits = "".join(ch for ch in part if ch.isdigit()) or "0"
        parts.append(int(digits[:6]))
    return tuple(parts)
