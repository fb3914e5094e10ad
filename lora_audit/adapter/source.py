"""Locate a saved adapter: its ``adapter_config.json`` and its weights file's tensor table.

A local adapter is a directory (``adapter_config.json`` + ``adapter_model.safetensors``) or the
``.safetensors`` file with its config beside it. A hub adapter (``org/name``) costs one download,
``adapter_config.json``, plus the safetensors header through range requests
(``HfApi.parse_safetensors_file_metadata``: the first 100 kB, and a second range only for a longer
header), both through the one hub client (``model/hub.py``) within the total hub deadline; a copy
already in the local Hugging Face cache is read from disk instead. A pickled
``adapter_model.bin`` is never opened: unpickling runs arbitrary code.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lora_audit.adapter import diffusers_format, formats, kohya
from lora_audit.adapter.header import TensorTable, read_local_header, table_from_dict
from lora_audit.errors import AuditError, first_line
from lora_audit.integrations import huggingface_hub as network
from lora_audit.model.hub import check_hub_file, fetch_hub_file, fetch_hub_header, is_offline
from lora_audit.model.local import looks_like_path, path_exists, read_small_text, user_path
from lora_audit.report import ConversionFacts

CONFIG_NAME = "adapter_config.json"
SAFETENSORS_NAME = "adapter_model.safetensors"
PICKLE_NAME = "adapter_model.bin"
MLX_NAME = "adapters.safetensors"
#: What the report says instead of a tensor table for a pickle file.
PICKLE_ADVICE = (
    "convert it once, in a Python you trust: sd = torch.load('adapter_model.bin', weights_only=True); "
    "safetensors.torch.save_file(sd, 'adapter_model.safetensors')"
)


@dataclass
class AdapterFile:
    """A saved adapter as found: where, its config, and its tensor table (None for pickle)."""

    spec: str  #: what the user passed
    kind: str  #: local | hub | hf-cache
    config_path: Path | None  #: None for a converted kohya / diffusers file (it has no adapter_config.json)
    config: dict[str, Any]
    weights_name: str  #: the weights file as shown in the report (path, or repo:file)
    format: str  #: peft | pickle | kohya | diffusers | mlx
    table: TensorTable | None
    repo_id: str | None = None
    revision: str | None = None
    #: the LoraConfig fields diffusers derives for a kohya or diffusers file (kohya.py, diffusers_format.py), else None
    lora_fields: dict[str, Any] | None = None
    #: how a kohya or diffusers file was read (diffusers version, function, text-encoder keys), else None
    conversion: ConversionFacts | None = None


def load_adapter(spec: str, revision: str | None = None, offline: bool | None = None) -> AdapterFile:
    """Find the adapter ``spec`` names and read its config and tensor table, never its tensors."""
    if not spec or not str(spec).strip():
        raise AuditError("adapter-not-found", "--adapter was given an empty path",
                         "pass an adapter directory or hub id")
    path = user_path(spec)
    if path_exists(path):
        return _local(str(spec), path)
    if looks_like_path(str(spec)) or str(spec).endswith((".safetensors", ".bin")):
        raise AuditError(
            "adapter-not-found",
            f"{spec}: no such file or directory",
            "pass an adapter directory (adapter_config.json + adapter_model.safetensors) or a hub id",
        )
    return _hub(str(spec), revision, is_offline(offline))


# --------------------------------------------------------------------------- local
def _local(spec: str, path: Path) -> AdapterFile:
    directory = path if path.is_dir() else path.parent
    if path.is_dir():
        weights = next(
            (directory / name for name in (SAFETENSORS_NAME, PICKLE_NAME, MLX_NAME) if (directory / name).is_file()),
            None,
        )
        if weights is None:
            raise AuditError(
                "adapter-weights-not-found",
                f"{spec} has no {SAFETENSORS_NAME} (nor {PICKLE_NAME})",
                "pass the directory save_pretrained wrote; to audit the config alone use --config",
            )
    else:
        weights = path
    config_path = directory / CONFIG_NAME
    if weights.suffix.lower() != ".safetensors":
        if weights.suffix.lower() in (".bin", ".pt", ".pth", ".ckpt"):
            return AdapterFile(spec, "local", _need_config(config_path, spec), _read_config(config_path, spec),
                               str(weights), "pickle", None)
        raise AuditError(
            "adapter-malformed",
            f"{spec} is not an adapter directory or a .safetensors file",
            "pass the directory save_pretrained wrote, or its adapter_model.safetensors",
        )
    table = read_local_header(weights)
    config = _read_config(config_path, spec) if config_path.is_file() else None
    kind = formats.detect(table.tensors, config)
    if kind in (formats.KOHYA, formats.DIFFUSERS):
        convert = kohya.convert if kind == formats.KOHYA else diffusers_format.convert
        converted, fields, facts = convert(weights, table, spec)
        return AdapterFile(spec, "local", None, {}, str(weights), kind, converted, lora_fields=fields,
                           conversion=facts)
    if kind != formats.PEFT:
        raise _foreign(spec, kind)
    return AdapterFile(spec, "local", _need_config(config_path, spec), config or {}, str(weights), kind, table)


def _need_config(config_path: Path, spec: str) -> Path:
    if not config_path.is_file():
        raise AuditError(
            "adapter-config-not-found",
            f"{spec}: no {CONFIG_NAME} beside the weights",
            "keep adapter_config.json next to adapter_model.safetensors, as save_pretrained writes them",
        )
    return config_path


def _read_config(config_path: Path, spec: str) -> dict[str, Any]:
    if not config_path.is_file():
        _need_config(config_path, spec)
    text = read_small_text(config_path, "lora-config-unreadable")
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        raise AuditError("lora-config-malformed", f"{config_path} is not valid JSON", "fix the file") from None
    if not isinstance(data, dict):
        raise AuditError("lora-config-malformed", f"{config_path} is not a JSON object", "fix the file")
    if formats.detect([], data) == formats.MLX:
        raise _foreign(spec, formats.MLX)
    return data


def _foreign(spec: str, kind: str) -> AuditError:
    what, how = formats.DESCRIPTIONS[kind]
    return AuditError("adapter-format-unsupported", f"{spec} is {what}, not a PEFT adapter", how)


# --------------------------------------------------------------------------- hub
def _hub(repo_id: str, revision: str | None, offline: bool) -> AdapterFile:
    from huggingface_hub import try_to_load_from_cache
    from huggingface_hub.errors import HFValidationError
    from huggingface_hub.utils import validate_repo_id

    try:
        validate_repo_id(repo_id)
    except HFValidationError:
        raise AuditError(
            "adapter-not-found",
            f"{repo_id!r} is neither an existing path nor a valid hub id",
            "pass an adapter directory or a hub id such as org/my-lora",
        ) from None
    where = f"{repo_id}@{revision or 'main'}"
    cached_config = try_to_load_from_cache(repo_id, CONFIG_NAME, revision=revision)
    cached_weights = try_to_load_from_cache(repo_id, SAFETENSORS_NAME, revision=revision)
    if isinstance(cached_config, str) and isinstance(cached_weights, str):
        found = _local(repo_id, Path(cached_weights))
        found.kind, found.repo_id, found.revision = "hf-cache", repo_id, revision
        found.weights_name = f"{repo_id}:{SAFETENSORS_NAME}"
        return found
    if offline:
        raise AuditError(
            "offline-not-cached",
            f"offline, and the adapter {where} is not in the local Hugging Face cache",
            "go online once (or unset HF_HUB_OFFLINE), or pass the adapter's local directory",
        )
    try:
        config_path = _download_config(repo_id, revision, where)
    except AuditError as exc:
        if exc.code != "adapter-config-not-found":
            raise
        return _hub_diffusers(repo_id, revision, where, exc)
    config = _read_config(config_path, repo_id)
    table = _hub_header(repo_id, revision, where)
    if table is None:
        return AdapterFile(repo_id, "hub", config_path, config, f"{repo_id}:{PICKLE_NAME}", "pickle", None,
                           repo_id, revision)
    kind = formats.detect(table.tensors, config)
    if kind != formats.PEFT:
        raise _foreign(repo_id, kind)
    return AdapterFile(repo_id, "hub", config_path, config, f"{repo_id}:{SAFETENSORS_NAME}", kind, table,
                       repo_id, revision)


def _hub_diffusers(repo_id: str, revision: str | None, where: str, no_config: AuditError) -> AdapterFile:
    """A repository without adapter_config.json: a diffusers pipeline LoRA (pytorch_lora_weights.safetensors)?"""
    try:
        table = _hub_header(repo_id, revision, where, diffusers_format.WEIGHTS_NAME, pickle_fallback=False)
    except AuditError as exc:
        if exc.code == "adapter-weights-not-found":
            raise no_config from None  # neither a PEFT adapter nor a diffusers LoRA: say what PEFT needs
        raise
    assert table is not None
    kind = formats.detect(table.tensors)
    if kind != formats.DIFFUSERS:
        raise _foreign(repo_id, kind) if kind != formats.PEFT else no_config
    converted, fields, facts = diffusers_format.convert(None, table, f"{repo_id}:{diffusers_format.WEIGHTS_NAME}")
    return AdapterFile(repo_id, "hub", None, {}, f"{repo_id}:{diffusers_format.WEIGHTS_NAME}", kind, converted,
                       repo_id, revision, lora_fields=fields, conversion=facts)


def _download_config(repo_id: str, revision: str | None, where: str) -> Path:
    try:
        return fetch_hub_file(repo_id, CONFIG_NAME, revision, probe=True)
    except Exception as exc:  # noqa: BLE001 - mapped to one line below
        raise _hub_error(exc, where, CONFIG_NAME) from None


def _hub_header(
    repo_id: str, revision: str | None, where: str, name: str = SAFETENSORS_NAME, pickle_fallback: bool = True
) -> TensorTable | None:
    """The safetensors header of the hub adapter, or None when the hub has only a pickle file."""
    from huggingface_hub.errors import EntryNotFoundError

    try:
        meta = fetch_hub_header(repo_id, name, revision)
    except EntryNotFoundError as exc:
        if not pickle_fallback:
            raise _hub_error(exc, where, name) from None
        try:
            check_hub_file(repo_id, PICKLE_NAME, revision)
        except Exception as exc:  # noqa: BLE001
            raise _hub_error(exc, where, SAFETENSORS_NAME) from None
        return None
    except Exception as exc:  # noqa: BLE001
        raise _hub_error(exc, where, name) from None
    header: dict[str, Any] = {
        name: {"dtype": info.dtype, "shape": list(info.shape), "data_offsets": list(info.data_offsets)}
        for name, info in meta.tensors.items()
    }
    header["__metadata__"] = dict(meta.metadata or {})
    return table_from_dict(header, f"{where}:{name}", 0)


def _hub_error(exc: Exception, where: str, filename: str) -> AuditError:
    from huggingface_hub.errors import (
        GatedRepoError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
        SafetensorsParsingError,
    )

    if isinstance(exc, GatedRepoError):
        return AuditError("gated-repo", f"the adapter {where} is gated",
                          "accept its licence on huggingface.co and log in (hf auth login, or set HF_TOKEN)")
    if isinstance(exc, RepositoryNotFoundError):
        return AuditError("adapter-not-found", f"{where} is not a repository on the Hugging Face Hub, or it is private",
                          "check the id; for a private repository log in (hf auth login, or set HF_TOKEN)")
    if isinstance(exc, RevisionNotFoundError):
        return AuditError("revision-not-found", f"the adapter {where} has no such revision",
                          "pass an existing branch, tag or commit")
    if isinstance(exc, SafetensorsParsingError):
        return AuditError("adapter-malformed", f"{where}:{filename} is not a valid safetensors file",
                          "save the adapter again with PEFT's save_pretrained")
    if network.is_missing_on_hub(exc):
        code = "adapter-config-not-found" if filename == CONFIG_NAME else "adapter-weights-not-found"
        return AuditError(code, f"{where} has no {filename}",
                          "pass the repository save_pretrained / push_to_hub wrote (adapter_config.json + "
                          "adapter_model.safetensors)")
    return AuditError("hub-unreachable", f"cannot fetch {filename} of the adapter {where} ({first_line(exc, 200)})",
                      "check the network (or HF_ENDPOINT), or pass the adapter's local directory")
