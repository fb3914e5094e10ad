"""lora-audit: see what a LoRA config does to a Hugging Face model before you train.

>>> import lora_audit
>>> report = lora_audit.audit("Qwen/Qwen2.5-0.5B", {"r": 8, "target_modules": ["q_proj", "v_proj"]})
>>> report.ok
True

Heavy libraries (torch, transformers, peft) are imported only when an audit runs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from lora_audit import pipeline
from lora_audit._version import __version__
from lora_audit.errors import AuditError
from lora_audit.report import Finding, Report
from lora_audit.request import AuditRequest, LoraConfigArg, MemoryRequest, ModelArg, PathArg
from lora_audit.rules.settings import Settings

__all__ = ["audit", "AuditError", "AuditRequest", "MemoryRequest", "Report", "Finding", "__version__"]


def audit(
    model: ModelArg | AuditRequest,
    lora_config: LoraConfigArg = None,
    *,
    config_file: PathArg | None = None,
    overrides: Mapping[str, Any] | None = None,
    revision: str | None = None,
    task_type: str | None = None,
    model_class: str | None = None,
    trust_remote_code: bool = False,
    offline: bool | None = None,
    component: str | None = None,
    settings: Settings | None = None,
    status: Callable[[str], object] | None = None,
    adapter: PathArg | None = None,
    quantization_request: Mapping[str, Any] | None = None,
    timeout: float | None = None,
    config_select: int | None = None,
    memory: MemoryRequest | None = None,
    assume_base: str | None = None,
) -> Report:
    """Audit ``lora_config`` against ``model`` without loading any weights.

    ``model`` is a hub id (``"Qwen/Qwen2.5-0.5B"``), a local directory or config.json, or an
    already-built ``nn.Module`` (left untouched: a weightless clone is audited), or a diffusers
    pipeline (``component`` picks its part, default the unet / transformer); None takes the model
    that ``config_file`` names (axolotl's ``base_model``, ``model_name_or_path``, an adapter's
    ``base_model_name_or_path``). ``lora_config`` is a ``peft.LoraConfig`` or a dict of its fields
    (left untouched too); ``config_file`` a LoRA config file (PEFT JSON/YAML, an adapter directory,
    an axolotl / LLaMA-Factory / TRL config), and ``overrides`` LoraConfig fields that win over it.

    ``revision`` is the hub revision; ``task_type`` (``"SEQ_CLS"``...) or ``model_class``
    (``"LlamaForSequenceClassification"``) choose the head; ``trust_remote_code`` runs a
    repository's own code; ``offline`` never contacts the hub (None: as ``HF_HUB_OFFLINE`` says).
    ``settings`` (:class:`lora_audit.rules.settings.Settings`) selects, re-grades and suppresses
    rules; ``status`` is called with a short message at each stage.

    ``quantization_request`` is the quantization training loads the base with, e.g.
    ``{"method": "bitsandbytes", "bits": 4}`` for QLoRA (it wins over what a config file asks for;
    config.json's own ``quantization_config`` is always read).

    >>> report = audit("Qwen/Qwen2.5-0.5B", {"r": 8, "target_modules": ["q_proj", "v_proj"]})
    >>> report.params.trainable, report.ok
    (540672, True)

    ``adapter`` (a saved adapter's directory, its ``.safetensors`` file, or a hub id) supplies the
    LoRA config and is checked against the base, key by key, from its header alone; ``model`` may
    then be None to use the adapter's ``base_model_name_or_path``.

    Building and applying run within a wall-time budget (``timeout`` seconds, else
    ``$LORA_AUDIT_TIMEOUT``, else 300) and a memory budget (``$LORA_AUDIT_MAX_MEMORY_GB``, else 8).
    Every failure is an :class:`AuditError`: bad input with its own code, a bug as ``internal-error``.

    ``config_file`` may be a training script, a notebook or a Markdown tutorial: the LoRA config its
    code builds is read statically (never run); when it builds several, ``config_select`` picks one
    (0-based, in order of their lines).

    ``memory`` (a :class:`~lora_audit.request.MemoryRequest`) adds the peak memory of one training step,
    run on fake tensors: ``report.memory``.

    ``assume_base`` builds that model's config instead (a hub id the catalogue holds, for a re-upload
    such as ``unsloth/llama-3-8b-bnb-4bit`` offline); the report says the numbers are for it.

    ``model`` may instead be an :class:`AuditRequest` holding all of these (then pass nothing else):
    ``audit(AuditRequest("Qwen/Qwen2.5-0.5B", {"r": 8}))``.
    """
    request = AuditRequest(
        model=None if isinstance(model, AuditRequest) else model, lora_config=lora_config, config_file=config_file,
        overrides=overrides, revision=revision, task_type=task_type, model_class=model_class,
        trust_remote_code=trust_remote_code, offline=offline, component=component, settings=settings, status=status,
        adapter=adapter, quantization_request=quantization_request, timeout=timeout, config_select=config_select,
        memory=memory, assume_base=assume_base,
    )
    if isinstance(model, AuditRequest):
        if request != AuditRequest():
            raise TypeError("audit(request) takes no other arguments: the AuditRequest holds them all")
        request = model
    return pipeline.audit(request)

