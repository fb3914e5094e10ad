"""Files that wrap a model: a diffusers pipeline and a sentence-transformers directory.

A pipeline's ``model_index.json`` lists its components (``"unet": ["diffusers",
"UNet2DConditionModel"]``); each model component keeps its own ``<component>/config.json``. Only
that index and the chosen component's config.json are read (from the hub: fetched), nothing else.

A sentence-transformers directory's ``modules.json`` lists its modules; PEFT adapts the
``Transformer`` module's model, whose config.json sits in that module's ``path``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lora_audit.errors import AuditError, first_line
from lora_audit.integrations import huggingface_hub as network
from lora_audit.model.hub import fetch_hub_file
from lora_audit.model.local import is_file, load_config_json, read_small_text
from lora_audit.model.source import CONFIG_NAME, INDEX_NAME, MODULES_NAME, ModelSource

#: Components trained by LoRA on the denoiser, in the order ``--component``'s default tries them.
DENOISERS = ("transformer", "unet", "prior", "decoder")


def pipeline_components(index: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """``{"unet": ("diffusers", "UNet2DConditionModel"), ...}``: the index's named, present components."""
    out = {}
    for name, value in index.items():
        if name.startswith("_") or not isinstance(value, list) or len(value) != 2:
            continue
        library, class_name = value
        if isinstance(library, str) and isinstance(class_name, str):
            out[name] = (library, class_name)
    return out


def pipeline_component(
    index_source: ModelSource, component: str | None, status: Callable[[str], Any] | None, offline: bool = True
) -> ModelSource:
    """The source of one component of the pipeline ``index_source`` (its model_index.json)."""
    index = index_source.config
    components = pipeline_components(index)
    listing = ", ".join(sorted(components)) or "none"
    pipeline_class = index.get("_class_name", "pipeline")
    if component is None:
        component = next((name for name in DENOISERS if name in components), None)
        if component is None:
            raise AuditError(
                "pipeline-no-denoiser",
                f"{index_source.name} is a {pipeline_class} with no unet or transformer component (components: "
                f"{listing})",
                "choose the component to audit with --component",
            )
    elif component not in components:
        raise AuditError(
            "unknown-component",
            f"{index_source.name} ({pipeline_class}) has no component {component!r}; its components: {listing}",
            "pass one of those names to --component",
        )
    relative = f"{component}/{CONFIG_NAME}"
    path = _locate(index_source, relative, status, offline)
    if path is None and index_source.kind == "catalogue":
        raise AuditError(
            "component-not-bundled",
            f"the bundled catalogue holds only the denoiser's config.json of {index_source.name}, not {relative}",
            "pass a local copy of the pipeline (model_index.json and the component's config.json), or go online",
        )
    if path is None and index_source.kind == "hf-cache" and offline:
        raise AuditError(
            "component-not-cached",
            f"{relative} of {index_source.name} is not in the local Hugging Face cache (its model_index.json is)",
            "go online once (or unset HF_HUB_OFFLINE) to fetch it, or pass a local pipeline directory",
        )
    if path is None:
        library, class_name = components[component]
        raise AuditError(
            "component-not-a-model",
            f"component {component!r} of {index_source.name} ({library} {class_name}) has no config.json: "
            "it is not a model LoRA can adapt (a scheduler, tokenizer or processor)",
            "choose a model component with --component, such as " + " or ".join(
                name for name in (*DENOISERS, "text_encoder") if name in components
            ),
        )
    return ModelSource(
        name=index_source.name,
        kind=index_source.kind,
        description=f"{index_source.description}, component {component}",
        config_path=path,
        config=load_config_json(path),
        repo_id=index_source.repo_id,
        revision=index_source.revision,
        fallback_reason=index_source.fallback_reason,
        component=component,
        pipeline_index=index,
    )


def _locate(
    index_source: ModelSource, relative: str, status: Callable[[str], Any] | None, offline: bool
) -> Path | None:
    if index_source.kind in ("local-dir", "local-file", "catalogue"):
        path = index_source.config_path.parent / relative
        return path if path.is_file() else None
    from huggingface_hub import try_to_load_from_cache

    repo_id, revision = index_source.repo_id or index_source.name, index_source.revision
    cached = try_to_load_from_cache(repo_id, relative, revision=revision)
    if isinstance(cached, str):
        return Path(cached)
    if index_source.kind == "hf-cache" and offline:
        return None  # the component config was never fetched, and the hub may not be asked
    if status is not None:
        status(f"fetching {relative} of {repo_id} from the Hugging Face Hub")
    try:
        return fetch_hub_file(repo_id, relative, revision)
    except Exception as exc:  # noqa: BLE001 - missing entry: not a model component; else the hub's error
        if network.is_missing_on_hub(exc):
            return None
        raise AuditError(
            "hub-error",
            f"cannot fetch {relative} of {repo_id}: {first_line(exc, 200)}",
            "try again later, or pass a local pipeline directory",
        ) from None


def is_sentence_transformers_dir(path: Path) -> bool:
    """A directory with ``modules.json`` (and no pipeline ``model_index.json``, which wins)."""
    try:
        is_dir = path.is_dir()
    except OSError:  # not allowed to look: reading it reports why
        return False
    return is_dir and not is_file(path / INDEX_NAME) and is_file(path / MODULES_NAME)


def sentence_transformers_source(spec: str, directory: Path) -> ModelSource:
    """The config.json of the ``Transformer`` module a sentence-transformers ``modules.json`` lists."""
    return _module_source(spec, directory, _transformer_module_path(directory / MODULES_NAME))


def _transformer_module_path(modules_path: Path) -> str:
    """The ``path`` of the ``Transformer`` module that ``modules.json`` lists (``""``: the top directory)."""
    try:
        modules = json.loads(read_small_text(modules_path, "config-unreadable"))
    except json.JSONDecodeError as exc:
        raise AuditError(
            "config-malformed",
            f"{modules_path} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})",
            "fix the file, or fetch a fresh copy of the model's modules.json",
        ) from None
    entries = [m for m in modules if isinstance(m, dict)] if isinstance(modules, list) else []
    transformer = next((m for m in entries if str(m.get("type", "")).endswith("models.Transformer")), None)
    if transformer is None:
        types = ", ".join(str(m.get("type")) for m in entries) or "none"
        raise AuditError(
            "no-transformer-module",
            f"{modules_path} lists no sentence_transformers.models.Transformer module (modules: {types[:200]})",
            "lora-audit audits the Transformer module PEFT adapts; pass that module's directory with its config.json",
        )
    return str(transformer.get("path") or "")


def _module_source(spec: str, directory: Path, module_path: str) -> ModelSource:
    config_path = directory / module_path / CONFIG_NAME
    if not config_path.is_file():
        raise AuditError(
            "no-config-json",
            f"the Transformer module of {spec} ({module_path or 'the top directory'}) has no config.json",
            "check the model directory: modules.json names a module path without its config.json",
        )
    return ModelSource(
        name=spec,
        kind="local-dir",
        description=str(config_path),
        config_path=config_path,
        config=load_config_json(config_path),
        component=module_path or ".",
        library_hint="sentence-transformers",
    )


# --------------------------------------------------------------------------- sentence-transformers on the hub
#: Classes an encoder checkpoint names that sentence-transformers does not build (it loads the bare
#: AutoModel): only for these is the hub asked for modules.json, one small request more.
ENCODER_SUFFIXES = ("Model", "ForMaskedLM", "ForPreTraining")


def may_be_sentence_transformers(config: dict[str, Any]) -> bool:
    """An encoder checkpoint (no head, or a pre-training head), as sentence-transformers repositories hold."""
    if not config.get("model_type") or "_class_name" in config:
        return False
    architectures = config.get("architectures") or []
    return all(isinstance(a, str) and a.endswith(ENCODER_SUFFIXES) for a in architectures)


def hub_sentence_transformers(source: ModelSource, offline: bool) -> ModelSource:
    """``source`` (a hub or HF-cache config.json), or its sentence-transformers Transformer module.

    A repository with ``modules.json`` is read as a sentence-transformers directory: its
    ``Transformer`` module's config.json, built as sentence-transformers loads it. ``modules.json``
    (and the module's config.json when it sits in a subfolder) comes as a pipeline component's
    config does (``_locate``: the HF cache, else the hub unless offline). A repository without
    modules.json, one whose modules.json lists no Transformer module, or a hub that does not answer,
    leaves ``source`` as it is: the config.json read as a transformers model.
    """
    if source.kind not in ("hub", "hf-cache") or not may_be_sentence_transformers(source.config):
        return source
    try:
        modules = _locate(source, MODULES_NAME, None, offline)
        if modules is None:
            return source
        module_path = _transformer_module_path(modules)
        if module_path:  # older repositories keep the module in a subfolder, with its own config.json
            _locate(source, f"{module_path}/{CONFIG_NAME}", None, offline)
        found = _module_source(source.name, modules.parent, module_path)
    except AuditError:  # no answer, no Transformer module (a CLIP wrapper), a broken modules.json: the plain model
        return source
    found.kind, found.repo_id, found.revision = source.kind, source.repo_id, source.revision
    found.description = f"{source.description}, sentence-transformers module {found.component}"
    return found
