"""diffusers models: a config.json with a ``_class_name`` (UNet2DConditionModel, FluxTransformer2DModel...).

The class is looked up in diffusers by that name and built with diffusers' own
``ModelMixin.from_config`` under ``torch.device("meta")``: no weights are allocated or read.
A pipeline's ``model_index.json`` was already narrowed to one component by
``source_wrappers.pipeline_component``; a component that transformers builds (a pipeline's
``text_encoder``) has a ``model_type`` and goes to the transformers module instead.
Reproduces diffusers 0.42.1 (``ConfigMixin.from_config`` / ``ModelMixin``).
"""

from __future__ import annotations

import importlib.util
from typing import Any

from lora_audit.errors import AuditError
from lora_audit.model.build import BuiltModel, build_first, refuse_too_deep
from lora_audit.model.libraries._extras import install_hint
from lora_audit.model.source import ModelSource

NAME = "diffusers"
EXTRA_HINT = install_hint("diffusers", "diffusers")


def detect(source: ModelSource) -> bool:
    return "model_type" not in source.config and isinstance(source.config.get("_class_name"), str)


def build(source: ModelSource, task_type: str | None = None, model_class: str | None = None, **_: Any) -> BuiltModel:
    diffusers = _import_diffusers(source)
    from diffusers import ModelMixin

    raw = dict(source.config)
    class_name = model_class or raw["_class_name"]
    cls = getattr(diffusers, class_name, None) if class_name.isidentifier() else None
    if not (isinstance(cls, type) and issubclass(cls, ModelMixin)):
        raise AuditError(
            "unknown-diffusers-class",
            f"diffusers {diffusers.__version__} has no model class {class_name!r}"
            + (" (it is a pipeline, scheduler or other non-model class)" if cls is not None else ""),
            "a newer diffusers may (pip install -U diffusers); for a pipeline pass its directory or hub id, "
            "and choose the component with --component",
        )
    if task_type:
        raise AuditError(
            "task-type-not-applicable",
            f"--task-type {task_type} names a transformers head; {class_name} is a diffusers model without one",
            "drop --task-type (diffusion LoRA configs have no task_type)",
        )
    refuse_too_deep(raw)

    def factory() -> Any:
        import torch

        with torch.device("meta"):
            return cls.from_config(raw)

    model, messages, fresh = build_first(
        factory, class_name, "check the config values, or fetch a fresh copy of the component's config.json")
    notes = []
    if source.component:
        pipeline = (source.pipeline_index or {}).get("_class_name", "pipeline")
        notes.append(f"component {source.component} of the {pipeline} (choose another with --component)")
    return BuiltModel(
        factory=fresh,
        class_name=class_name,
        model_type=class_name,
        config=model.config,
        messages=messages,
        notes=notes,
        library=NAME,
    )


def require(source: ModelSource) -> None:
    """diffusers is not installed at all: said before torch is imported."""
    if importlib.util.find_spec("diffusers") is None:
        raise AuditError("library-missing", f"{_what(source)} diffusers is not installed", EXTRA_HINT)


def _what(source: ModelSource) -> str:
    return f"{source.description} is a diffusers model ({source.config.get('_class_name')}), and"


def _import_diffusers(source: ModelSource) -> Any:
    return require_diffusers(_what(source))


def require_diffusers(what: str) -> Any:
    """``import diffusers``, or the one-line error that names the extra: "<what> diffusers is not installed"."""
    try:
        import diffusers
    except ImportError:
        raise AuditError("library-missing", f"{what} diffusers is not installed", EXTRA_HINT) from None
    return diffusers
