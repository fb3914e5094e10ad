"""The audit pipeline, one way through:

    resolve model -> resolve LoRA config -> apply (PEFT, on meta) -> measure -> check -> Report

Each stage takes plain data from the one before; the live models exist only inside ``apply`` and
``measure`` and are dropped before the rules run.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from lora_audit._version import __version__
from lora_audit.adapter import adapter_facts, base_dims
from lora_audit.adapter.kohya import check_base
from lora_audit.adapter.pipeline_step import resolve_adapter, resolve_base
from lora_audit.apply.adapt import apply_lora
from lora_audit.config import methods
from lora_audit.config.lora_config import expand_for_model, resolve_lora_config
from lora_audit.config.methods import LORA
from lora_audit.errors import AuditError, internal_error
from lora_audit.guards import budget
from lora_audit.integrations import huggingface_hub as network
from lora_audit.measure import counts as measure
from lora_audit.measure.memory.estimate import estimate as estimate_memory
from lora_audit.measure.quantization.classify import classify_targets
from lora_audit.measure.quantization.describe import describe as describe_quantization
from lora_audit.model import libraries
from lora_audit.model.build import from_module
from lora_audit.model.locate import resolve_model_source
from lora_audit.model.source import ModelSource
from lora_audit.report import AdaptedModule, MethodInfo, QuantizationFacts, Report, ToolInfo
from lora_audit.request import AuditRequest, ModelArg
from lora_audit.rules.engine import run_rules
from lora_audit.rules.settings import Settings

if TYPE_CHECKING:
    from lora_audit.adapter.source import AdapterFile
    from lora_audit.apply.adapt import Adaptation
    from lora_audit.config.lora_config import LoraSpec
    from lora_audit.model.build import BuiltModel


def audit(request: AuditRequest) -> Report:
    """Audit ``request.lora_config`` against ``request.model`` without loading any weights.

    The public entry point is :func:`lora_audit.audit`, which documents every field of the
    :class:`~lora_audit.request.AuditRequest` and builds one from its keyword arguments.

    Building and applying run within a wall-time budget (``request.timeout`` seconds, else
    ``$LORA_AUDIT_TIMEOUT``, else 300) and a memory budget (``$LORA_AUDIT_MAX_MEMORY_GB``, else 8).
    Every failure is an :class:`AuditError`: bad input with its own code, a bug as ``internal-error``.
    """
    try:
        network.check_environment()
        budget.seconds_budget(request.timeout)  # a bad --timeout is refused before any work
        budget.memory_budget()
        # Offline before transformers loads a config that names other repositories (a DETR backbone). The
        # budget covers the whole audit, reading and parsing the config file included.
        with network.offline_mode(request.offline), budget.limits(request.timeout):
            return _audit(request)
    except budget.Stop as stop:  # the budget's interrupt, landing just outside its block as the audit ended
        if stop.error is None:
            raise
        raise stop.error from None
    except AuditError:
        raise
    except Exception as exc:  # noqa: BLE001 - a bug: still an AuditError, with the cause chained for debugging
        raise internal_error(exc) from exc


def _audit(request: AuditRequest) -> Report:
    settings = request.settings or Settings()
    model_given = request.model is not None
    found = None
    if request.adapter is not None:
        found, model, config_file, adapter_overrides = resolve_adapter(
            request.adapter, request.model, request.lora_config, request.config_file, request.overrides,
            request.offline)
        request = request.with_changes(model=model, config_file=config_file, overrides=adapter_overrides)
        if found.lora_fields is not None:  # a converted kohya file: the LoraConfig diffusers derives
            request = request.with_changes(lora_config=dict(found.lora_fields), config_file=None)
    if model_given and found is None and request.assume_base is None \
            and isinstance(request.model, (str, os.PathLike)) and not isinstance(request.model, ModelSource):
        request = request.with_changes(model=_located(request))
    elif isinstance(request.model, ModelSource):  # located by the caller (the result cache)
        libraries.require(request.model)
    overrides: Mapping[str, Any] | None = request.overrides
    if request.task_type is not None:
        overrides = {**(overrides or {}), "task_type": request.task_type}
    spec = resolve_lora_config(request.lora_config, request.config_file, overrides, request.config_select)
    if request.memory is not None and spec.method != LORA:
        # The fake training step is checked against real runs of LoRA only (docs/memory.md).
        raise AuditError("usage", f"--memory models a LoRA training step; {methods.label(spec.method)} is not "
                                  "modelled yet", "run without --memory")
    translation = spec.translation
    if translation is not None and request.component is None and translation.component is not None \
            and not model_given:
        request = request.with_changes(component=translation.component)
    if request.quantization_request is not None:
        spec.quantization_request = {"source": "quantization_request (API)", **request.quantization_request}
    task = spec.config.task_type
    task = getattr(task, "value", task)
    model, model_from, model_class = _model_from_file(request.model, spec, request.model_class)
    model_from = model_from if model_given else "file"  # --adapter alone: its adapter_config.json named it

    source = None
    if _is_module(model):
        if request.component is not None:
            raise AuditError(
                "component-not-pipeline",
                f"component={request.component!r} applies to a diffusers pipeline path or hub id, not to an "
                "nn.Module",
                "pass the component's module itself, without component",
            )
        built = from_module(model)
        name = type(model).__name__
    elif isinstance(model, (str, os.PathLike, ModelSource)):
        try:
            # A ModelSource: already located by the caller (the result cache keys on its files' bytes).
            if request.assume_base is not None:
                source = resolve_model_source(request.assume_base, revision=None, offline=request.offline,
                                              status=request.status, component=request.component)
                spec = _assumed(spec, os.fspath(model) if not isinstance(model, ModelSource) else model.name,
                                request.assume_base)
            else:
                source = model if isinstance(model, ModelSource) else _resolve_base(model, found, request)
        except AuditError as exc:
            if model_from != "file" or spec.translation is None:
                raise
            raise AuditError(
                exc.code,
                f"{exc.message} (the model named by {spec.translation.file}: {spec.translation.model_key})",
                f"pass the base model as MODEL (lora-audit MODEL --config FILE); {exc.hint}",
            ) from None
        if request.status is not None:
            request.status("building the model on the meta device")
        options: dict[str, Any] = {}
        if translation is not None and translation.config_overrides:
            options["config_overrides"] = dict(translation.config_overrides)
        built = libraries.build(source, task_type=task, model_class=model_class,
                                trust_remote_code=request.trust_remote_code, **options)
        if request.assume_base is not None:
            asked = model.name if isinstance(model, ModelSource) else os.fspath(model)
            built.notes.insert(0, f"--assume-base: built from the config of {request.assume_base} ({source.kind}), "
                                  f"assumed to be {asked}'s architecture: every number is for that config")
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
    if request.status is not None:
        request.status("applying the LoRA config with PEFT")
    adaptation = apply_lora(built, spec)
    report = _measure(name, source, built, spec, adaptation, settings, found, model_from)
    if request.memory is not None:
        if request.status is not None:
            request.status("estimating memory: one training step on fake tensors")
        training = spec.translation.training if spec.translation is not None else None
        report.memory = estimate_memory(request.memory, report, built, spec.config, training)
    report.findings = run_rules(report, settings)
    return report


def _method_notes(spec: LoraSpec) -> list[str]:
    if not spec.prompt_learning:
        return []
    label = methods.label(spec.method)
    return [f"{label} is prompt learning: it trains virtual-token embeddings (its prompt encoder) and adapts no "
            "module of the model, so there are no target matches or per-layer rows; the counts are PEFT's"]


def _measure(name: str, source: ModelSource | None, built: BuiltModel, spec: LoraSpec, adaptation: Adaptation,
             settings: Settings, found: AdapterFile | None, model_from: str) -> Report:
    import peft
    import torch
    import transformers

    snap = adaptation.snapshot
    rows = measure.adapted_modules(adaptation)
    lora_config = spec.as_dict()
    model = measure.model_info(name, source, built, snap)
    adapter = None
    if found is not None:  # while PEFT's model is live: it names the keys it saves
        adapter = adapter_facts(found, adaptation.peft_model, base_dims(built, model.num_layers), name)
    report = Report(
        tool=ToolInfo(name="lora-audit", version=__version__, peft=peft.__version__,
                      transformers=transformers.__version__, torch=torch.__version__),
        model=model,
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
        apply_error=adaptation.error,
        pattern_matches=measure.pattern_matches(adaptation, rows, lora_config),
        exclude_matches=adaptation.exclude_matches,
        bias_params=measure.bias_params(adaptation, rows),
        unknown_config_fields=spec.unknown_fields,
        notes=list(built.notes) + _method_notes(spec) + adaptation.notes,
        lora_config_source=(
            spec.translation.to_report(spec.fields, spec.flags, model_from) if spec.translation is not None else None
        ),
        quantization=_quantization(spec, source, built, lora_config, rows, adaptation),
        method=MethodInfo(spec.method, methods.label(spec.method), spec.prompt_learning,
                          methods.FORMULAS.get(spec.method)),
        adapter=adapter,
        fail_on=settings.fail_on,
    )
    adaptation.peft_model = None  # drop the live model: from here on the report is plain data
    return report


def _assumed(spec: LoraSpec, name: str, base: str) -> LoraSpec:
    """An ``...-bnb-4bit`` re-upload is a pre-quantized bitsandbytes 4-bit checkpoint: say so as a request."""
    if spec.quantization_request is None and "bnb-4bit" in name.lower():
        spec.quantization_request = {"method": "bitsandbytes", "bits": 4,
                                     "source": f"{name}: the id names a pre-quantized bitsandbytes 4-bit repository"}
    return spec


def _model_from_file(model: ModelArg, spec: LoraSpec, model_class: str | None) -> tuple[ModelArg, str, str | None]:
    """The model to audit (MODEL wins over the one the config file names), where it came from, and its class."""
    translation = spec.translation
    if model is not None:
        # The head the file asks for (axolotl's model_type: AutoModelForSequenceClassification) still applies;
        # a concrete class of the file's own architecture might not fit the MODEL given instead.
        asked = translation.model_class if translation is not None else None
        if model_class is None and asked and asked.startswith("Auto"):
            model_class = asked
        return model, "argument", model_class
    if translation is not None and translation.model is None and translation.model_unresolved is not None:
        raise AuditError(
            "model-missing",
            f"no model given, and the model {translation.file} loads is not known without running it: "
            f"{translation.model_unresolved}",
            "pass MODEL: a hub id such as Qwen/Qwen2.5-0.5B, or a path",
        )
    if translation is None or translation.model is None:
        where = f"{translation.file} names no base model" if translation is not None else "no config file names one"
        raise AuditError(
            "model-missing",
            f"no model given, and {where}",
            "pass MODEL: a hub id such as Qwen/Qwen2.5-0.5B, or a path",
        )
    return translation.model, "file", model_class if model_class is not None else translation.model_class


def _located(request: AuditRequest) -> ModelSource:
    """MODEL located, and its library checked, before the LoRA config is read: the LoRA config's fields come
    from PEFT, whose import (with torch's) takes seconds, and a model that is missing or needs a library
    that is not installed is said at once."""
    model = request.model
    assert isinstance(model, (str, os.PathLike))
    source = resolve_model_source(os.fspath(model), revision=request.revision, offline=request.offline,
                                  status=request.status, component=request.component)
    libraries.require(source)
    return source


def _resolve_base(model: str | os.PathLike[str], found: AdapterFile | None, request: AuditRequest) -> ModelSource:
    if found is None:
        return resolve_model_source(os.fspath(model), revision=request.revision, offline=request.offline,
                                    status=request.status, component=request.component)

    return resolve_base(model, found, request.revision, request.offline, request.status)


def _quantization(spec: LoraSpec, source: ModelSource | None, built: BuiltModel, lora_config: dict[str, Any],
                  rows: list[AdaptedModule], adaptation: Adaptation) -> QuantizationFacts | None:
    snap = adaptation.snapshot
    # config.json as published (source.config), or the config object of an in-memory model.
    block = (source.config if source is not None else {}).get("quantization_config")
    if block is None and source is None:
        block = getattr(built.config, "quantization_config", None)
    described = describe_quantization(spec.quantization_request, block, lora_config)
    if described is None:
        return None
    saved = [m for match in adaptation.modules_to_save if not match.dropped for m in match.modules]
    facts = classify_targets(described, rows, snap.quantizer_default_skips, snap.keep_in_fp32_modules,
                             saved=saved, types=snap.types)
    if spec.method != LORA and facts.peft_layer is not None:
        # The quantized-layer table is LoRA's (lora.Linear4bit...): another method has its own, or none.
        facts = dataclasses.replace(facts, peft_layer=None, peft_requires=None)
    return facts


def _is_module(value: object) -> bool:
    if isinstance(value, (str, os.PathLike)) or value is None:
        return False
    try:
        from torch import nn
    except ImportError:  # pragma: no cover - torch is a dependency
        return False
    return isinstance(value, nn.Module)
