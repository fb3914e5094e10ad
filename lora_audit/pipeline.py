"""The audit pipeline, one way through:

    resolve model -> resolve LoRA config -> apply (PEFT, on meta) -> measure -> check -> Report

Each stage takes plain data from the one before; the live models exist only inside ``apply`` and
``measure`` and are dropped before the rules run.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from lora_audit._version import __version__
from lora_audit.adapter import adapter_facts, base_dims
from lora_audit.adapter.kohya import check_base
from lora_audit.adapter.pipeline_step import resolve_adapter, resolve_base
from lora_audit.apply.adapt import apply_lora
from lora_audit.config.lora_config import expand_for_model, resolve_lora_config
from lora_audit.errors import AuditError, internal_error
from lora_audit.guards import budget
from lora_audit.integrations import huggingface_hub as network
from lora_audit.measure import counts as measure
from lora_audit.measure.quantization.classify import classify_targets
from lora_audit.measure.quantization.describe import describe as describe_quantization
from lora_audit.model import libraries
from lora_audit.model.build import from_module
from lora_audit.model.locate import resolve_model_source
from lora_audit.model.source import ModelSource
from lora_audit.report import Report
from lora_audit.rules.engine import run_rules
from lora_audit.rules.settings import Settings


def audit(
    model: Any,
    lora_config: Any = None,
    *,
    config_file: str | os.PathLike[str] | None = None,
    overrides: dict[str, Any] | None = None,
    revision: str | None = None,
    task_type: str | None = None,
    model_class: str | None = None,
    trust_remote_code: bool = False,
    offline: bool | None = None,
    component: str | None = None,
    settings: Settings | None = None,
    status: Callable[[str], Any] | None = None,
    adapter: str | os.PathLike[str] | None = None,
    quantization_request: dict[str, Any] | None = None,
    timeout: float | None = None,
) -> Report:
    """Audit ``lora_config`` against ``model`` without loading any weights.

    ``model`` is a hub id (``"Qwen/Qwen2.5-0.5B"``), a local directory or config.json, or an
    already-built ``nn.Module`` (left untouched: a weightless clone is audited), or a diffusers
    pipeline (``component`` picks its part, default the unet / transformer); None takes the model
    that ``config_file`` names (axolotl's ``base_model``, ``model_name_or_path``, an adapter's
    ``base_model_name_or_path``). ``lora_config``
    is a ``peft.LoraConfig`` or a dict of its fields (left untouched too). ``quantization_request``
    is the quantization training loads the base with, e.g. ``{"method": "bitsandbytes", "bits": 4}``
    for QLoRA (it wins over what a config file asks for; config.json's own ``quantization_config``
    is always read).

    >>> report = audit("Qwen/Qwen2.5-0.5B", {"r": 8, "target_modules": ["q_proj", "v_proj"]})
    >>> report.params.trainable, report.ok
    (540672, True)

    ``adapter`` (a saved adapter's directory, its ``.safetensors`` file, or a hub id) supplies the
    LoRA config and is checked against the base, key by key, from its header alone; ``model`` may
    then be None to use the adapter's ``base_model_name_or_path``.

    Building and applying run within a wall-time budget (``timeout`` seconds, else
    ``$LORA_AUDIT_TIMEOUT``, else 300) and a memory budget (``$LORA_AUDIT_MAX_MEMORY_GB``, else 8).
    Every failure is an :class:`AuditError`: bad input with its own code, a bug as ``internal-error``.
    """
    try:
        network.check_environment()
        budget.seconds_budget(timeout)  # a bad --timeout is refused before any work
        budget.memory_budget()
        # Offline before transformers loads a config that names other repositories (a DETR backbone).
        with network.offline_mode(offline):
            return _audit(model, lora_config, config_file=config_file, overrides=overrides, revision=revision,
                          task_type=task_type, model_class=model_class, trust_remote_code=trust_remote_code,
                          offline=offline, component=component, settings=settings, status=status,
                          adapter=adapter, quantization_request=quantization_request, timeout=timeout)
    except AuditError:
        raise
    except Exception as exc:  # noqa: BLE001 - a bug: still an AuditError, with the cause chained for debugging
        raise internal_error(exc) from exc


def _audit(model: Any, lora_config: Any, *, config_file: Any, overrides: dict[str, Any] | None,
           revision: str | None, task_type: str | None, model_class: str | None, trust_remote_code: bool,
           offline: bool | None, component: str | None, settings: Settings | None,
           status: Callable[[str], Any] | None, adapter: str | os.PathLike[str] | None,
           quantization_request: dict[str, Any] | None, timeout: float | None) -> Report:
    settings = settings or Settings()
    model_given = model is not None
    found = None
    if adapter is not None:
        found, model, config_file, overrides = resolve_adapter(adapter, model, lora_config, config_file, overrides,
                                                               offline)
        if found.lora_fields is not None:  # a converted kohya file: the LoraConfig diffusers derives
            lora_config, config_file = dict(found.lora_fields), None
    if task_type is not None:
        overrides = {**(overrides or {}), "task_type": task_type}
    spec = resolve_lora_config(lora_config, config_file, overrides)
    if quantization_request is not None:
        spec.quantization_request = {"source": "quantization_request (API)", **quantization_request}
    task = spec.config.task_type
    task = getattr(task, "value", task)
    model, model_from, model_class = _model_from_file(model, spec, model_class)
    model_from = model_from if model_given else "file"  # --adapter alone: its adapter_config.json named it

    with budget.limits(timeout):
        source = None
        if _is_module(model):
            if component is not None:
                raise AuditError(
                    "component-not-pipeline",
                    f"component={component!r} applies to a diffusers pipeline path or hub id, not to an nn.Module",
                    "pass the component's module itself, without component",
                )
            built = from_module(model)
            name = type(model).__name__
        elif isinstance(model, (str, os.PathLike, ModelSource)):
            try:
                # A ModelSource: already located by the caller (the result cache keys on its files' bytes).
                source = model if isinstance(model, ModelSource) else _resolve_base(
                    model, found, revision, offline, status, component)
            except AuditError as exc:
                if model_from != "file" or spec.translation is None:
                    raise
                raise AuditError(
                    exc.code,
                    f"{exc.message} (the model named by {spec.translation.file}: {spec.translation.model_key})",
                    f"pass the base model as MODEL (lora-audit MODEL --config FILE); {exc.hint}",
                ) from None
            if status is not None:
                status("building the model on the meta device")
            built = libraries.build(source, task_type=task, model_class=model_class,
                                    trust_remote_code=trust_remote_code)
            name = source.name if isinstance(model, ModelSource) else os.fspath(model)
        else:
            raise AuditError(
                "invalid-model",
                f"model must be a hub id, a path or an nn.Module, not {type(model).__name__}",
                "pass e.g. 'Qwen/Qwen2.5-0.5B'",
            )

        if found is not None and found.conversion is not None:
            check_base(found, built)
        spec = expand_for_model(spec, built)
        if status is not None:
            status("applying the LoRA config with PEFT")
        adaptation = apply_lora(built, spec)
        report = _measure(name, source, built, spec, adaptation, settings, found)
        if spec.translation is not None:
            report.lora_config_source = spec.translation.to_report(spec.fields, spec.flags, model_from)
        report.findings = run_rules(report, settings)
        return report


def _measure(name, source, built, spec, adaptation, settings: Settings, found=None) -> Report:  # noqa: ANN001
    import peft
    import torch
    import transformers

    snap = adaptation.snapshot
    rows = measure.adapted_modules(adaptation)
    lora_config = spec.as_dict()
    report = Report(
        tool={
            "name": "lora-audit",
            "version": __version__,
            "peft": peft.__version__,
            "transformers": transformers.__version__,
            "torch": torch.__version__,
        },
        model=measure.model_info(name, source, built, snap),
        lora_config=lora_config,
        applied=adaptation.peft_model is not None,
        params=measure.param_counts(adaptation),
        targets=adaptation.targets,
        modules_to_save=adaptation.modules_to_save,
        adapted_modules=rows,
        wrapped_modules=measure.wrapped_modules(adaptation),
        coverage=measure.coverage(snap, adaptation.targets),
        peft_messages=built.messages + adaptation.messages,
        modules=measure.module_tree(snap),
        apply_error=(
            {"type": adaptation.error_type, "message": adaptation.error} if adaptation.error else None
        ),
        pattern_matches=measure.pattern_matches(adaptation, rows, lora_config),
        exclude_matches=adaptation.exclude_matches,
        bias_params=measure.bias_params(adaptation, rows),
        unknown_config_fields=spec.unknown_fields,
        notes=list(built.notes),
        fail_on=settings.fail_on,
        quantization=_quantization(spec, source, built, lora_config, rows, adaptation),
    )
    if found is not None:  # while PEFT's model is live: it names the keys it saves
        report.adapter = adapter_facts(found, adaptation.peft_model, base_dims(built, report.model.num_layers), name)
    adaptation.peft_model = None  # drop the live model: from here on the report is plain data
    return report


def _model_from_file(model: Any, spec: Any, model_class: str | None) -> tuple[Any, str, str | None]:
    """The model to audit (MODEL wins over the one the config file names), where it came from, and its class."""
    translation = spec.translation
    if model is not None:
        # The head the file asks for (axolotl's model_type: AutoModelForSequenceClassification) still applies;
        # a concrete class of the file's own architecture might not fit the MODEL given instead.
        asked = translation.model_class if translation is not None else None
        if model_class is None and asked and asked.startswith("Auto"):
            model_class = asked
        return model, "argument", model_class
    if translation is None or translation.model is None:
        where = f"{translation.file} names no base model" if translation is not None else "no config file names one"
        raise AuditError(
            "model-missing",
            f"no model given, and {where}",
            "pass MODEL: a hub id such as Qwen/Qwen2.5-0.5B, or a path",
        )
    return translation.model, "file", model_class if model_class is not None else translation.model_class


def _resolve_base(model, found, revision, offline, status, component=None):  # noqa: ANN001, ANN202
    if found is None:
        return resolve_model_source(
            os.fspath(model), revision=revision, offline=offline, status=status, component=component
        )

    return resolve_base(model, found, revision, offline, status)


def _quantization(spec, source, built, lora_config, rows, adaptation) -> dict[str, Any] | None:  # noqa: ANN001
    snap = adaptation.snapshot
    # config.json as published (source.config), or the config object of an in-memory model.
    block = (source.config if source is not None else {}).get("quantization_config")
    if block is None and source is None:
        block = getattr(built.config, "quantization_config", None)
    described = describe_quantization(spec.quantization_request, block, lora_config)
    if described is not None:
        saved = [m for match in adaptation.modules_to_save if not match.dropped for m in match.modules]
        classify_targets(described, rows, snap.quantizer_default_skips, snap.keep_in_fp32_modules,
                                      saved=saved, types=snap.types)
    return described


def _is_module(value: Any) -> bool:
    if isinstance(value, (str, os.PathLike)) or value is None:
        return False
    try:
        from torch import nn
    except ImportError:  # pragma: no cover - torch is a dependency
        return False
    return isinstance(value, nn.Module)
