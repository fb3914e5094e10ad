"""Locate the model's ``config.json`` (and nothing else), on disk or on the hub.

``MODEL`` may be a directory holding ``config.json``, a path to a config file, or a hub id
``org/name`` (with a revision). Local paths are read by :mod:`~lora_audit.model.local`, hub ids by
:mod:`~lora_audit.model.hub`; a file that wraps a model (a diffusers pipeline's ``model_index.json``,
a sentence-transformers ``modules.json``) is followed to the model inside by
:mod:`~lora_audit.model.wrappers`. Weights are never requested: only ``config.json`` is named.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lora_audit.errors import AuditError
from lora_audit.model import hub, local, wrappers
from lora_audit.model.source import INDEX_NAME, ModelSource


def resolve_model_source(
    spec: str,
    revision: str | None = None,
    offline: bool | None = None,
    status: Callable[[str], Any] | None = None,
    component: str | None = None,
) -> ModelSource:
    """Locate ``config.json`` for ``spec``.

    >>> resolve_model_source("Qwen/Qwen2.5-0.5B", offline=True).kind
    'catalogue'
    """
    if not spec or not spec.strip():
        raise AuditError("model-missing", "no model given", "pass a hub id such as Qwen/Qwen2.5-0.5B or a path")
    path = local.user_path(spec)
    offline = hub.is_offline(offline)
    if local.path_exists(path):
        if wrappers.is_sentence_transformers_dir(path):
            found = wrappers.sentence_transformers_source(spec, path)
        else:
            found = local.local_source(spec, path)
    elif local.looks_like_path(spec):
        raise AuditError(
            "path-not-found",
            f"{spec}: no such file or directory",
            "pass an existing model directory or config.json, or a hub id such as Qwen/Qwen2.5-0.5B",
        )
    else:
        found = wrappers.hub_sentence_transformers(hub.hub_source(spec, revision, offline, status), offline)
    if found.config_path.name == INDEX_NAME:
        found = wrappers.pipeline_component(found, component, status, offline=offline)
    if component is not None and found.pipeline_index is None:
        raise AuditError(
            "component-not-pipeline",
            f"--component {component} applies to a diffusers pipeline (a model_index.json), and {spec} is a "
            "single model",
            "drop --component, or pass the pipeline's directory or hub id",
        )
    return found


