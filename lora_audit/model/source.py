"""Stage 1a: find the model's ``config.json`` (and nothing else).

``MODEL`` may be a directory holding ``config.json``, a path to a config file, or a hub id
``org/name`` (with a revision). A hub id is resolved from the local Hugging Face cache, else by
downloading that one file, else (offline, gated, unreachable) from the bundled catalogue.
Weights are never requested: this module only ever names ``config.json``.
"""

from __future__ import annotations

import errno
import json
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lora_audit.errors import AuditError, first_line
from lora_audit.guards.numbers import check_numbers
from lora_audit.integrations import huggingface_hub as network
from lora_audit.model import catalogue

CONFIG_NAME = "config.json"
#: a diffusers pipeline's list of components; and sentence-transformers' list of modules
INDEX_NAME = "model_index.json"
MODULES_NAME = "modules.json"
#: A single HEAD request to the hub, without retries: an unreachable hub must not cost 20 s.
DEFAULT_HUB_TIMEOUT = 5.0
#: A config.json is kilobytes (the largest, with a 20k-label id2label, a few MB). Reading stops past
#: this, so a mistaken multi-GB file costs a moment, not all the memory; transformers copies a config
#: several times while loading it, so a 60 MB one would cost minutes and gigabytes.
MAX_CONFIG_BYTES = 16 * 1024 * 1024
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".gguf", ".h5", ".msgpack", ".pkl", ".onnx")


@dataclass
class ModelSource:
    """A located config.json: where it came from and what it says."""

    name: str  #: what the user passed
    kind: str  #: local-dir | local-file | hf-cache | hub | catalogue
    description: str  #: readable: the path, or ``hub Qwen/Qwen2.5-0.5B@main``...
    config_path: Path
    config: dict[str, Any]
    repo_id: str | None = None
    revision: str | None = None
    #: why the catalogue was used instead of the hub (offline, gated, unreachable)
    fallback_reason: str | None = None
    #: for a diffusers pipeline (model_index.json): the component audited, and the index itself
    component: str | None = None
    pipeline_index: dict[str, Any] | None = None
    #: the library a wrapper file names (modules.json -> sentence-transformers), when config.json alone cannot
    library_hint: str | None = None


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
    path = user_path(spec)
    if path_exists(path):
        found = _local_source(spec, path)
    elif _looks_like_path(spec):
        raise AuditError(
            "path-not-found",
            f"{spec}: no such file or directory",
            "pass an existing model directory or config.json, or a hub id such as Qwen/Qwen2.5-0.5B",
        )
    else:
        found = _hub_source(spec, revision, _offline(offline), status)
    if found.config_path.name == INDEX_NAME:
        from lora_audit.model.wrappers import pipeline_component

        found = pipeline_component(found, component, status, offline=_offline(offline))
    if component is not None and found.pipeline_index is None:
        raise AuditError(
            "component-not-pipeline",
            f"--component {component} applies to a diffusers pipeline (a model_index.json), and {spec} is a "
            "single model",
            "drop --component, or pass the pipeline's directory or hub id",
        )
    return found


# --------------------------------------------------------------------------- local
def user_path(text: str | os.PathLike[str]) -> Path:
    """``~/x`` expanded; ``~nobody/x`` (an unknown user) left as written, to be reported as not found."""
    try:
        return Path(text).expanduser()
    except RuntimeError:
        return Path(text)


def path_exists(path: Path) -> bool:
    """``path.exists()``, but False for a name the OS refuses (too long, ...) rather than an OSError."""
    try:
        return path.exists()
    except PermissionError:
        return True  # there, but not ours to look at: reading it will say "permission denied"
    except OSError:
        return False


def _is_file(path: Path) -> bool:
    """``path.is_file()``, but False (not PermissionError) inside a directory we may not look into."""
    try:
        return path.is_file()
    except OSError:
        return False


def _local_source(spec: str, path: Path) -> ModelSource:
    try:
        is_dir = path.is_dir()
    except OSError:  # not allowed to look: reading it reports why
        is_dir = False
    if is_dir and _is_file(path / INDEX_NAME):
        path, is_dir = path / INDEX_NAME, False  # a diffusers pipeline: expanded to its component by the caller
    if is_dir and _is_file(path / MODULES_NAME):
        return _sentence_transformers_source(spec, path)
    if is_dir:
        config_path = path / CONFIG_NAME
        try:
            os.stat(config_path)
        except PermissionError:
            raise AuditError(
                "config-unreadable",
                f"cannot read {spec}: permission denied",
                "check the directory's permissions, or run as a user who can read it",
            ) from None
        except OSError:
            pass
        if not config_path.is_file() and not path_exists(config_path):
            raise AuditError(
                "no-config-json",
                f"{spec} has no config.json",
                "point at a Hugging Face model directory (the one that holds config.json), or at the config file",
            )
        kind = "local-dir"
    else:
        if path.suffix.lower() in WEIGHT_SUFFIXES:
            raise AuditError(
                "weights-file",
                f"{spec} is a weights file; lora-audit reads only the model's config.json",
                "pass the directory or the config.json next to it",
            )
        config_path, kind = path, "local-file"
    return ModelSource(
        name=spec,
        kind=kind,
        description=str(config_path),
        config_path=config_path,
        config=load_config_json(config_path),
    )


#: How long a pipe (``--config <(...)``) may take to deliver its config before we give up on it.
PIPE_SECONDS = 10.0
_SPECIAL_KINDS = (
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISDIR, "a directory"),
)


def _special_kind(mode: int) -> str | None:
    return next((kind for test, kind in _SPECIAL_KINDS if test(mode)), None)


def read_small_text(path: Path, code: str, allow_pipe: bool = True) -> str:
    """The UTF-8 text of a config file, refusing one larger than :data:`MAX_CONFIG_BYTES`.

    Only a regular file is read, or with ``allow_pipe`` a pipe (``--config <(...)``, /dev/stdin)
    that delivers within :data:`PIPE_SECONDS`. A FIFO, socket or device is refused without
    opening it where that could block: nothing here waits forever.
    """
    try:
        mode = os.stat(path).st_mode
        kind = _special_kind(mode)
        if kind is not None and not (allow_pipe and stat.S_ISFIFO(mode)):
            raise AuditError(
                code,
                f"{path} is {kind}, not a config file",
                "pass the config file itself (a few kB of JSON or YAML)",
            )
        data = _read_limited(path, stat.S_ISFIFO(mode))
        if len(data) > MAX_CONFIG_BYTES:
            raise AuditError(
                code,
                f"{path} is larger than {MAX_CONFIG_BYTES // (1024 * 1024)} MB: not a config file",
                "pass the config file itself (a few kB of JSON or YAML), never a weights or data file",
            )
        return data.decode("utf-8")
    except PermissionError:
        raise AuditError(code, f"cannot read {path}: permission denied",
                         "check the file's permissions (and its directory's), or run as a user who can read it",
                         ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise AuditError(code, f"cannot read {path}: {exc}", "check the file (a UTF-8 JSON or YAML text)") from None


def _read_limited(path: Path, pipe: bool) -> bytes:
    """At most ``MAX_CONFIG_BYTES + 1`` bytes; from a pipe, only as long as it delivers within PIPE_SECONDS."""
    if not pipe:
        with open(path, "rb") as handle:
            return handle.read(MAX_CONFIG_BYTES + 1)
    import select
    import time

    # O_NONBLOCK: opening a FIFO for reading otherwise waits for a writer that may never come.
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    chunks: list[bytes] = []
    size = 0
    give_up = time.monotonic() + PIPE_SECONDS
    try:
        while size <= MAX_CONFIG_BYTES:
            left = give_up - time.monotonic()
            ready = select.select([fd], [], [], max(left, 0))[0] if left > 0 else []
            if not ready:
                raise OSError(f"the pipe delivered no complete config within {PIPE_SECONDS:g} s")
            try:
                chunk = os.read(fd, 1 << 16)
            except BlockingIOError:
                continue
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    finally:
        os.close(fd)
    return b"".join(chunks)


def load_config_json(path: Path) -> dict[str, Any]:
    """Read a model config.json: a JSON object with a ``model_type``."""
    text = read_small_text(path, "config-unreadable", allow_pipe=False)
    try:
        data = json.loads(text)
    except RecursionError:
        raise AuditError(
            "config-malformed",
            f"{path} nests lists or objects too deeply to be a model config",
            "pass the model's config.json",
        ) from None
    except json.JSONDecodeError as exc:
        raise AuditError(
            "config-malformed",
            f"{path} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})",
            "fix the file, or fetch a fresh copy of the model's config.json",
        ) from None
    except ValueError as exc:  # an integer of more than 4,300 digits
        raise AuditError(
            "config-malformed",
            f"{path} is not a usable config: {first_line(exc, 120)}",
            "fix the value, or fetch a fresh copy of the model's config.json",
        ) from None
    check_numbers(data, str(path), "config-malformed")
    if not isinstance(data, dict):
        raise AuditError(
            "config-malformed",
            f"{path} holds a JSON {type(data).__name__}, not an object",
            "pass the model's config.json",
        )
    model_type = data.get("model_type")
    if not model_type and _other_library_config(data):
        return data  # a diffusers or timm config: the library's builder validates it
    if not model_type:
        hint = "pass the model's config.json (a transformers config with a model_type key)"
        if "peft_type" in data or "target_modules" in data:
            hint = "this looks like a LoRA adapter config: pass it with --config, and the base model as MODEL"
        raise AuditError("config-no-model-type", f"{path} has no model_type", hint)
    if not isinstance(model_type, str):
        raise AuditError(
            "config-malformed",
            f"{path} has a model_type that is a {type(model_type).__name__}, not a name",
            'the model_type is a string such as "llama"; fetch a fresh copy of the model\'s config.json',
        )
    architectures = data.get("architectures")
    if architectures is not None and not (
        isinstance(architectures, list) and all(isinstance(name, str) and name for name in architectures)
    ):
        raise AuditError(
            "config-malformed",
            f"{path} has architectures that are not a list of class names",
            'write it as a list such as ["LlamaForCausalLM"], or fetch a fresh copy of the model\'s config.json',
        )
    return data


def _other_library_config(data: dict[str, Any]) -> bool:
    """A diffusers model config (``_class_name``) or a timm hub config (``architecture``)."""
    return isinstance(data.get("_class_name"), str) or isinstance(data.get("architecture"), str)


def _sentence_transformers_source(spec: str, path: Path) -> ModelSource:
    from lora_audit.model.wrappers import sentence_transformers_source

    return sentence_transformers_source(spec, path)


def _looks_like_path(spec: str) -> bool:
    # A hub id has at most one slash ("org/name"); anything else that does not exist is a bad path.
    return spec.startswith((".", "/", "~")) or spec.endswith(".json") or spec.count("/") > 1 or "\\" in spec


# --------------------------------------------------------------------------- hub
def _offline(flag: bool | None) -> bool:
    if flag is not None:
        return flag
    return os.environ.get("HF_HUB_OFFLINE", "").strip().upper() in {"1", "ON", "YES", "TRUE"}


def _hub_source(
    repo_id: str, revision: str | None, offline: bool, status: Callable[[str], Any] | None
) -> ModelSource:
    from huggingface_hub.errors import HFValidationError
    from huggingface_hub.utils import validate_repo_id

    try:
        validate_repo_id(repo_id)
    except HFValidationError:
        raise AuditError(
            "invalid-model-id",
            f"{repo_id!r} is neither an existing path nor a valid hub id",
            "pass a hub id such as Qwen/Qwen2.5-0.5B, or a model directory / config.json path",
        ) from None

    from lora_audit.model.wrappers import hub_sentence_transformers

    cached = _from_cache(repo_id, revision)
    if cached is not None:
        return hub_sentence_transformers(cached, offline)
    if offline:
        return _from_catalogue(
            repo_id,
            revision,
            reason="offline, and not in the local HF cache",
            error=AuditError(
                "offline-not-cached",
                f"offline, and config.json of {repo_id} is neither in the local Hugging Face cache "
                "nor in the bundled catalogue",
                "go online once (or unset HF_HUB_OFFLINE), or pass a local directory with config.json",
            ),
        )
    return hub_sentence_transformers(_download(repo_id, revision, status), offline)


def _from_cache(repo_id: str, revision: str | None) -> ModelSource | None:
    from huggingface_hub import try_to_load_from_cache

    path = try_to_load_from_cache(repo_id, CONFIG_NAME, revision=revision)
    if not isinstance(path, str):
        path = try_to_load_from_cache(repo_id, INDEX_NAME, revision=revision)  # a diffusers pipeline
    if not isinstance(path, str):
        return None
    return ModelSource(
        name=repo_id,
        kind="hf-cache",
        description=f"local HF cache ({repo_id}@{revision or 'main'})",
        config_path=Path(path),
        config=load_config_json(Path(path)),
        repo_id=repo_id,
        revision=revision,
    )


def _from_catalogue(repo_id: str, revision: str | None, reason: str, error: AuditError) -> ModelSource:
    path = catalogue.find(repo_id)
    if path is None:
        raise error
    if revision not in (None, "main"):
        raise AuditError(
            error.code,
            f"{error.message}; the bundled catalogue has {catalogue.canonical_id(path)} "
            f"only at its published main revision, not {revision!r}",
            error.hint,
        )
    canonical = catalogue.canonical_id(path)
    return ModelSource(
        name=repo_id,
        kind="catalogue",
        description=f"bundled catalogue: {canonical} ({reason})",
        config_path=path,
        config=load_config_json(path),
        repo_id=canonical,
        revision=None,
        fallback_reason=reason,
    )


def hub_timeout() -> float:
    value = os.environ.get("HF_HUB_ETAG_TIMEOUT")
    try:
        return float(value) if value else DEFAULT_HUB_TIMEOUT
    except ValueError:
        return DEFAULT_HUB_TIMEOUT


def _download(repo_id: str, revision: str | None, status: Callable[[str], Any] | None) -> ModelSource:
    from huggingface_hub import get_hf_file_metadata, hf_hub_download, hf_hub_url
    from huggingface_hub.errors import (
        EntryNotFoundError,
        GatedRepoError,
        HfHubHTTPError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    where = f"{repo_id}@{revision or 'main'}"
    if status is not None:
        status(f"fetching config.json of {where} from the Hugging Face Hub")
    timeout = hub_timeout()

    def fetch() -> Path:
        # One HEAD without retries first: hf_hub_download retries an unreachable hub for ~20 s.
        get_hf_file_metadata(hf_hub_url(repo_id, CONFIG_NAME, revision=revision), timeout=timeout,
                             retry_on_errors=False)
        return Path(hf_hub_download(repo_id, CONFIG_NAME, revision=revision, etag_timeout=timeout))

    try:
        # The timeouts above are per read; a hub that trickles bytes would never trip them.
        path = network.call_with_deadline(fetch, network.deadline(timeout), f"fetching {where}")
    except GatedRepoError:
        return _from_catalogue(
            repo_id,
            revision,
            reason="the hub repository is gated",
            error=AuditError(
                "gated-repo",
                f"{repo_id} is a gated repository: the hub gives config.json only to accounts that accepted "
                "its licence",
                "accept the licence on huggingface.co and log in (hf auth login, or set HF_TOKEN), "
                "or pass a local directory with config.json",
            ),
        )
    except RepositoryNotFoundError as exc:
        if catalogue.find(repo_id) is not None:  # a mirror that lacks the repository: as if unreachable
            return _unreachable(repo_id, revision, where, exc)
        raise AuditError(
            "model-not-found",
            f"{repo_id} is not a model on the Hugging Face Hub, or it is private",
            "check the id for typos; for a private repository log in (hf auth login, or set HF_TOKEN)",
        ) from None
    except RevisionNotFoundError:
        raise AuditError(
            "revision-not-found",
            f"{repo_id} has no revision {revision!r}",
            "pass an existing branch, tag or commit with --revision",
        ) from None
    except EntryNotFoundError as exc:
        if isinstance(exc, LocalEntryNotFoundError):  # unreachable and not cached
            return _unreachable(repo_id, revision, where, exc)
        index = _download_index(repo_id, revision)  # no config.json: a diffusers pipeline has model_index.json
        if index is not None:
            return index
        raise AuditError(
            "no-config-json",
            f"{where} has no config.json on the hub (nor a diffusers pipeline's model_index.json)",
            "lora-audit needs a model repository (transformers, diffusers); pass a local config.json",
        ) from None
    except HfHubHTTPError as exc:
        if _is_unreachable(exc) or (_status(exc) in (403, 404) and catalogue.find(repo_id) is not None):
            return _unreachable(repo_id, revision, where, exc)
        raise AuditError(
            "hub-error",
            f"the Hugging Face Hub refused config.json of {where}: {first_line(exc, 200)}",
            "try again later, or pass a local directory with config.json",
        ) from None
    except OSError as exc:
        if isinstance(exc, PermissionError) or getattr(exc, "errno", None) in _CACHE_ERRNOS:
            raise _cache_unwritable(exc) from None
        return _unreachable(repo_id, revision, where, exc)
    except Exception as exc:  # noqa: BLE001 - connection refused, DNS, timeouts (httpx raises its own types)
        return _unreachable(repo_id, revision, where, exc)
    return ModelSource(
        name=repo_id,
        kind="hub",
        description=f"hub ({where})",
        config_path=path,
        config=load_config_json(path),
        repo_id=repo_id,
        revision=revision,
    )


def fetch_hub_file(repo_id: str, filename: str, revision: str | None) -> Path:
    """One small file of a hub repository into the HF cache, within the hub deadline (raises the hub's errors)."""
    from huggingface_hub import hf_hub_download

    timeout = hub_timeout()
    return network.call_with_deadline(
        lambda: Path(hf_hub_download(repo_id, filename, revision=revision, etag_timeout=timeout)),
        network.deadline(timeout), f"fetching {filename} of {repo_id}",
    )


def _download_index(repo_id: str, revision: str | None) -> ModelSource | None:
    try:
        path = fetch_hub_file(repo_id, INDEX_NAME, revision)
    except Exception:  # noqa: BLE001 - no model_index.json either: report the missing config.json
        return None
    return ModelSource(
        name=repo_id,
        kind="hub",
        description=f"hub ({repo_id}@{revision or 'main'})",
        config_path=path,
        config=load_config_json(path),
        repo_id=repo_id,
        revision=revision,
    )


def _unreachable(repo_id: str, revision: str | None, where: str, exc: BaseException) -> ModelSource:
    return _from_catalogue(
        repo_id,
        revision,
        reason=f"hub unreachable: {first_line(exc, 200)}",
        error=AuditError(
            "hub-unreachable",
            f"cannot reach the Hugging Face Hub to fetch config.json of {where} ({first_line(exc, 200)}), and it is "
            "neither cached nor bundled",
            "check the network (or HF_ENDPOINT), or pass a local directory with config.json",
        ),
    )


def _status(exc: Exception) -> int | None:
    return getattr(getattr(exc, "response", None), "status_code", None)


def _is_unreachable(exc: Exception) -> bool:
    status = _status(exc)
    return status is None or status >= 500


#: Errors that mean the local cache cannot be written, not that the hub is unreachable.
_CACHE_ERRNOS = (errno.EACCES, errno.EROFS, errno.ENOTDIR, errno.ENOSPC, errno.EPERM)


def _cache_unwritable(exc: OSError) -> AuditError:
    return AuditError(
        "hub-cache-unwritable",
        f"cannot write the Hugging Face cache ({exc.strerror or exc}: {exc.filename or '?'})",
        "point HF_HOME (or HF_HUB_CACHE) at a writable directory, or pass a local directory with config.json",
    )
