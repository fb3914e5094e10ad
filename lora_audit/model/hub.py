"""From the Hugging Face Hub: a hub id's ``config.json`` from the local HF cache, the hub, or the catalogue.

A hub id is resolved from the local Hugging Face cache, else by downloading that one file, else
(offline, gated, unreachable) from the bundled catalogue. Weights are never requested.

This module is lora-audit's one hub client: every request it makes to the hub (a model's
``config.json`` or ``model_index.json``, a pipeline component's config, ``modules.json``, an
adapter's ``adapter_config.json`` and its safetensors header) goes through :func:`hub_request`, within
the total deadline (``LORA_AUDIT_HUB_DEADLINE``) however the server trickles: :func:`fetch_hub_file`
downloads a small file, :func:`check_hub_file` asks whether one exists, :func:`fetch_hub_header` reads
a safetensors header by range requests. tests/unit/test_hub_client.py fails on a request made anywhere else.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from lora_audit.errors import AuditError, first_line
from lora_audit.integrations import huggingface_hub as network
from lora_audit.model import catalogue
from lora_audit.model.local import load_config_json
from lora_audit.model.source import CONFIG_NAME, DEFAULT_HUB_TIMEOUT, INDEX_NAME, ModelSource

T = TypeVar("T")


def is_offline(flag: bool | None) -> bool:
    """``--offline`` / ``offline=``, else ``HF_HUB_OFFLINE`` as huggingface_hub reads it."""
    if flag is not None:
        return flag
    return os.environ.get("HF_HUB_OFFLINE", "").strip().upper() in {"1", "ON", "YES", "TRUE"}


def hub_source(
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

    cached = _from_cache(repo_id, revision)
    if cached is not None:
        return cached
    if offline:
        return _from_catalogue(
            repo_id,
            revision,
            reason="offline, and not in the local HF cache",
            error=AuditError(
                "offline-not-cached",
                f"offline, and config.json of {repo_id} is neither in the local Hugging Face cache "
                "nor in the bundled catalogue",
                _reupload_hint(repo_id) or "go online once (or unset HF_HUB_OFFLINE), or pass a local directory "
                                           "with config.json",
            ),
        )
    return _download(repo_id, revision, status)


def _reupload_hint(repo_id: str) -> str | None:
    """For an id the catalogue lacks: the bundled models with its name stem, and how to audit against one."""
    candidates = catalogue.same_stem(repo_id)
    if not candidates:
        return None
    return (f"the catalogue has {', '.join(candidates)} with the same name stem: if {repo_id} is a re-upload of it, "
            f"pass --assume-base {candidates[0]} (the report then says the numbers are for that config); or go "
            "online once")


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


def hub_request(call: Callable[[], T], what: str) -> T:
    """``call()``, the requests of one hub answer, or :class:`~lora_audit.integrations.huggingface_hub.DeadlineExceeded`
    once the total deadline has passed: huggingface_hub's own timeouts are per read, and a hub that
    trickles bytes would never trip them.
    """
    return network.call_with_deadline(call, network.deadline(hub_timeout()), what)


def fetch_hub_file(repo_id: str, filename: str, revision: str | None, probe: bool = False) -> Path:
    """One small file of a hub repository into the HF cache, within the hub deadline (raises the hub's errors).

    With ``probe``, one HEAD without retries first: hf_hub_download retries an unreachable hub for ~20 s.
    """
    from huggingface_hub import get_hf_file_metadata, hf_hub_download, hf_hub_url

    timeout = hub_timeout()

    def fetch() -> Path:
        if probe:
            get_hf_file_metadata(hf_hub_url(repo_id, filename, revision=revision), timeout=timeout,
                                 retry_on_errors=False)
        return Path(hf_hub_download(repo_id, filename, revision=revision, etag_timeout=timeout))

    return hub_request(fetch, f"fetching {filename} of {repo_id}")


def check_hub_file(repo_id: str, filename: str, revision: str | None) -> None:
    """Ask the hub whether it has ``filename`` (one HEAD, no retries, within the deadline); raises the hub's errors."""
    from huggingface_hub import get_hf_file_metadata, hf_hub_url

    timeout = hub_timeout()
    hub_request(lambda: get_hf_file_metadata(hf_hub_url(repo_id, filename, revision=revision), timeout=timeout,
                                             retry_on_errors=False), f"asking for {filename} of {repo_id}")


def fetch_hub_header(repo_id: str, filename: str, revision: str | None) -> Any:
    """The safetensors header of a hub file, by range requests only, within the deadline (raises the hub's errors).

    ``HfApi.parse_safetensors_file_metadata``: the first 100 kB, and a second range only for a longer header.
    """
    from huggingface_hub import HfApi

    timeout = hub_timeout()
    return hub_request(lambda: HfApi().parse_safetensors_file_metadata(repo_id, filename, revision=revision,
                                                                        timeout=timeout),
                       f"reading the header of {filename} of {repo_id}")


def _download(repo_id: str, revision: str | None, status: Callable[[str], Any] | None) -> ModelSource:
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
    try:
        path = fetch_hub_file(repo_id, CONFIG_NAME, revision, probe=True)
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


