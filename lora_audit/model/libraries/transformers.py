"""transformers models: a config.json with a ``model_type`` (the default library; build.py builds it)."""

from __future__ import annotations

from typing import Any

from lora_audit.model.build import BuiltModel, build_meta_model
from lora_audit.model.source import ModelSource

NAME = "transformers"


def detect(source: ModelSource) -> bool:
    return True  # the fallback: load_config_json already required a model_type for anything else


def build(source: ModelSource, **options: Any) -> BuiltModel:
    built = build_meta_model(source, **options)
    if source.component:  # a pipeline's text encoder
        pipeline = (source.pipeline_index or {}).get("_class_name", "pipeline")
        built.notes.insert(0, f"component {source.component} of the {pipeline} (choose another with --component)")
    return built
