"""How ``--adapter`` enters the pipeline: the adapter's config becomes the LoRA config, and its
``base_model_name_or_path`` the model when none is given.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

from lora_audit.adapter.source import AdapterFile, load_adapter
from lora_audit.errors import AuditError
from lora_audit.model.locate import resolve_model_source
from lora_audit.model.source import ModelSource

#: The heads PEFT adds to ``modules_to_save`` for a task type (PEFT 0.21.2, ``peft/peft_model.py``:
#: ``PeftModelForSequenceClassification`` / ``...TokenClassification`` add ``classifier`` and ``score``,
#: ``...QuestionAnswering`` adds ``qa_outputs``). A saved config lists them because PEFT added them.
TASK_HEADS = {"SEQ_CLS": ("classifier", "score"), "TOKEN_CLS": ("classifier", "score"), "QUESTION_ANS": ("qa_outputs",)}


def resolve_adapter(
    adapter: str | os.PathLike[str],
    model: Any,
    lora_config: Any,
    config_file: Any,
    overrides: Mapping[str, Any] | None,
    offline: bool | None,
) -> tuple[AdapterFile, Any, Any, dict[str, Any]]:
    """``(adapter, model, config_file, overrides)`` for the rest of the pipeline."""
    if lora_config is not None or config_file is not None:
        raise AuditError(
            "usage",
            "--adapter and --config (or lora_config) both give the LoRA config",
            "the adapter's own adapter_config.json is audited: drop --config",
        )
    found = load_adapter(os.fspath(adapter), offline=offline)
    if model is None:
        model = found.config.get("base_model_name_or_path")
        if not isinstance(model, str) or not model.strip():
            raise AuditError(
                "adapter-base-unknown",
                f"{found.config_path} names no base_model_name_or_path" if found.config_path is not None
                else f"{found.spec} is a {found.format} diffusion LoRA: it does not name its base model",
                "name the base: lora-audit BASE --adapter " + found.spec,
            )
    # A saved adapter_config.json says inference_mode: true (save_pretrained writes it so); applied
    # as is, PEFT freezes the LoRA weights and counts 0 trainable. Audit it as training (or
    # PeftModel.from_pretrained(..., is_trainable=True)) would see it.
    overrides = {"inference_mode": False, **(overrides or {})}
    # PEFT adds its task heads again when it applies the config: keep them as its own additions (not
    # entries of the user's that might match nothing, such as ``score`` on a BERT classifier).
    heads, saved = TASK_HEADS.get(str(found.config.get("task_type"))), found.config.get("modules_to_save")
    if heads and isinstance(saved, list) and overrides.get("modules_to_save") is None:
        overrides["modules_to_save"] = [m for m in saved if m not in heads]
    return found, model, found.config_path, overrides


def resolve_base(
    model: Any, found: AdapterFile, revision: str | None, offline: bool | None, status: Callable[[str], object] | None
) -> ModelSource:
    """The base's config source; an unusable ``base_model_name_or_path`` says to name the base."""
    spec = os.fspath(model)
    try:
        return resolve_model_source(spec, revision=revision, offline=offline, status=status)
    except AuditError as exc:
        if spec != found.config.get("base_model_name_or_path"):
            raise
        raise AuditError(
            exc.code,
            f"the adapter's base_model_name_or_path {spec!r} cannot be used: {exc.message}",
            "name the base yourself: lora-audit BASE --adapter " + found.spec,
        ) from None
