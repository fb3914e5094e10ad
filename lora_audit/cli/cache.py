"""The result cache: an audit whose inputs did not change answers without importing torch, transformers or peft.

The key is computed from raw inputs only, so a hit needs none of the heavy libraries:

- the model: what was asked for, where its ``config.json`` was found (and how that is described),
  the file's bytes, and with ``--trust-remote-code`` the bytes of the repository's ``*.py`` files;
- the LoRA config: the path and bytes of ``--config`` (every JSON/YAML file of an adapter
  directory), and the flags that override it;
- the other flags that change the facts (revision, task type, model class, remote code);
- the versions of lora-audit, peft, transformers, torch and huggingface_hub (read from the
  installed distributions' metadata, not imported), Python's, and a digest of lora-audit's own
  source files (name, size, modification time: a developer's edit misses too).

The entry holds the report's facts, never its findings: the rules (pure functions of the facts,
cheap, no torch) run again on every hit with the settings of the day, so ``--select``,
``--ignore``, ``--fail-on`` and the baseline never need a miss.

The cache directory may be shared (a CI cache restored across branches), so an entry must not be
able to change a verdict: each is bound to its key by an HMAC-SHA256 under a per-user secret
(``mac-key``, 32 random bytes in the cache directory, created atomically with mode 0600; a key file
that is not a regular 0600 file of this user's turns the cache off). An entry is trusted only when it
is a regular file in the cache directory (no symlink, FIFO or device; read with a size cap), parses,
its MAC over key and payload verifies, and it rebuilds into a ``Report``; anything else is a miss
(and the entry is replaced). At most ``MAX_ENTRIES`` entries are kept,
the oldest removed first. Audits of a saved adapter (``--adapter``) and of an in-memory model are
not cached.

Where: ``$LORA_AUDIT_CACHE_DIR`` if set, else the user cache directory (platformdirs:
``~/.cache/lora-audit`` on Linux). ``--no-cache`` or ``LORA_AUDIT_NO_CACHE=1`` turns it off.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import hmac
import json
import os
import secrets
import stat
import sys
import tempfile
import types
import typing
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

import platformdirs

from lora_audit import report as report_module
from lora_audit._version import __version__
from lora_audit.guards.files import read_regular, read_regular_text
from lora_audit.model.source import INDEX_NAME, MODULES_NAME, ModelSource
from lora_audit.report import Report
from lora_audit.request import AuditRequest

ENV_DIR = "LORA_AUDIT_CACHE_DIR"
ENV_OFF = "LORA_AUDIT_NO_CACHE"
#: Bump when the entry layout or the key's recipe changes.
ENTRY_FORMAT = 2
#: Versions that change what PEFT does, how models build, or where config.json comes from.
VERSIONED = ("lora-audit-cli", "peft", "transformers", "torch", "huggingface_hub", "diffusers")
#: A LoRA config file or remote-code file bigger than this is not worth caching on.
MAX_INPUT_BYTES = 16 * 1024 * 1024
#: An entry bigger than this is not read (a report's facts are tens of kB to a few MB).
MAX_ENTRY_BYTES = 64 * 1024 * 1024
#: The per-user secret that binds entries to their keys.
SECRET_NAME = "mac-key"
SECRET_BYTES = 32
#: Entries kept; past this the least recently written are removed (an entry is tens of kB to a few MB).
MAX_ENTRIES = 500


def cache_dir() -> Path:
    override = os.environ.get(ENV_DIR)
    if override:
        return Path(override)

    return Path(platformdirs.user_cache_dir("lora-audit", appauthor=False))


def enabled(no_cache: bool = False) -> bool:
    return not no_cache and os.environ.get(ENV_OFF, "").lower() not in ("1", "true", "yes")


# --------------------------------------------------------------------------- the key
def cache_key(source: ModelSource, request: AuditRequest) -> str | None:
    """SHA-256 of every input of the audit's facts; None when an input cannot be read cheaply.

    ``source`` is the located model; of ``request``, the config file and :meth:`AuditRequest.cache_flags`.
    """
    config_file, flags = request.config_file, request.cache_flags()
    digest = hashlib.sha256()

    def add(label: str, value: Any) -> None:
        digest.update(label.encode() + b"\0")
        if isinstance(value, bytes):
            digest.update(len(value).to_bytes(8, "big") + value)
        else:
            text = json.dumps(value, sort_keys=True, default=repr).encode()
            digest.update(len(text).to_bytes(8, "big") + text)

    add("format", ENTRY_FORMAT)
    add("versions", _versions())
    add("code", _code_digest())
    add("model", [source.name, source.kind, source.description, source.repo_id, source.revision,
                  source.fallback_reason, str(source.config_path)])
    config_bytes = _read(Path(source.config_path))
    if config_bytes is None:
        return None
    add("config.json", config_bytes)
    add("side-files", [[name, data.hex() if data is not None else None] for name, data in
                       _side_files(Path(source.config_path))])
    if flags.get("trust_remote_code"):
        folder = Path(source.config_path).parent
        for path in sorted(folder.glob("*.py")):
            data = _read(path)
            if data is None:
                return None
            add(f"remote:{path.name}", data)
    if config_file is not None:
        path = Path(os.fspath(config_file))
        add("lora-config-path", [os.fspath(config_file), str(path.resolve())])
        files = sorted(p for p in path.iterdir() if p.suffix in (".json", ".yaml", ".yml")) if path.is_dir() else [path]
        for file in files:
            data = _read(file)
            if data is None:
                return None
            add(f"lora-config:{file.name}", data)
    add("flags", flags)
    return digest.hexdigest()


def _read(path: Path) -> bytes | None:
    try:
        return read_regular(path, MAX_INPUT_BYTES)
    except OSError:
        return None


def _side_files(config_path: Path) -> list[tuple[str, bytes | None]]:
    """The files beside the model's config.json that decide which config is read, or their absence."""
    out = []
    for folder in (config_path.parent, config_path.parent.parent):
        for name in (INDEX_NAME, MODULES_NAME):
            out.append((f"{folder.name}/{name}", _read(folder / name)))
    return out


def _versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {"python": sys.version, "lora-audit": __version__}
    for name in VERSIONED:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def _code_digest() -> str:
    """lora-audit's own source files by name, size and mtime: an edited checkout never reuses old facts."""
    root = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        with contextlib.suppress(OSError):
            st = path.stat()
            digest.update(f"{path.relative_to(root)}:{st.st_size}:{st.st_mtime_ns}\n".encode())
    return digest.hexdigest()


# --------------------------------------------------------------------------- entries
def entry_path(key: str) -> Path:
    return cache_dir() / f"{key}.json"


def secret(create: bool = False) -> bytes | None:
    """The per-user key that binds entries to their keys; None when there is none (or it is not safe)."""
    path = cache_dir() / SECRET_NAME
    try:
        data = _read_secret(path)
    except FileNotFoundError:
        if not create:
            return None
        data = _create_secret(path)
    except OSError:
        return None
    return data


def _read_secret(path: Path) -> bytes | None:
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        st = os.fstat(fd)
        if (not stat.S_ISREG(st.st_mode) or st.st_mode & 0o077 or st.st_uid != os.getuid()
                or st.st_size != SECRET_BYTES):
            return None  # not ours, or readable by others: no cache rather than a forgeable one
        data = os.read(fd, SECRET_BYTES + 1)
    finally:
        os.close(fd)
    return data if len(data) == SECRET_BYTES else None


def _create_secret(path: Path) -> bytes | None:
    """Write a new secret to a 0600 temporary file and link it into place: two processes agree on one."""
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".mac-key.", dir=path.parent)  # mode 0600
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(secrets.token_bytes(SECRET_BYTES))
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)  # atomic, and never over an existing key: the first writer wins
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
    try:
        return _read_secret(path)
    except OSError:
        return None


def _mac(key_bytes: bytes, key: str, payload: str) -> str:
    message = f"lora-audit cache {ENTRY_FORMAT}\0{key}\0".encode() + payload.encode("utf-8")
    return hmac.new(key_bytes, message, hashlib.sha256).hexdigest()


def load(key: str) -> Report | None:
    """The cached facts for ``key`` as a Report without findings, or None (missing, forged, corrupt, not ours)."""
    path = entry_path(key)
    key_bytes = secret()
    if key_bytes is None:
        return None
    try:
        entry = json.loads(read_regular_text(path, MAX_ENTRY_BYTES, follow=False))
        payload = entry["payload"]
        if entry.get("format") != ENTRY_FORMAT or entry.get("key") != key or not isinstance(payload, str):
            return None
        mac = entry.get("mac")
        if not isinstance(mac, str) or not hmac.compare_digest(mac, _mac(key_bytes, key, payload)):
            return None
        report = report_from_dict(json.loads(payload))
    except FileNotFoundError:
        return None
    except Exception:  # noqa: BLE001 - anything wrong with an entry makes it a miss, never a crash
        with contextlib.suppress(OSError):
            path.unlink()
        return None
    return report


def store(key: str, report: Report) -> None:
    """Save the report's facts (not its findings); a cache that cannot be written is simply not used."""
    facts = report.to_dict()
    facts["findings"] = []
    facts["from_cache"] = False
    payload = json.dumps(facts, sort_keys=True)
    with contextlib.suppress(OSError, ValueError):
        cache_dir().mkdir(parents=True, exist_ok=True)
        key_bytes = secret(create=True)
        if key_bytes is None:
            return
        entry = {"format": ENTRY_FORMAT, "key": key, "mac": _mac(key_bytes, key, payload), "payload": payload}
        _write_entry(entry_path(key), json.dumps(entry))
        _prune()


def _write_entry(path: Path, text: str) -> None:
    """A temporary file, then a rename: readers never see half an entry. No fsync: an entry lost in a
    crash is a miss, and a damaged one fails its checksum."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _prune() -> None:
    entries = sorted(cache_dir().glob("*.json"), key=lambda p: p.lstat().st_mtime_ns)
    for path in entries[: max(0, len(entries) - MAX_ENTRIES)]:
        with contextlib.suppress(OSError):
            path.unlink()


# --------------------------------------------------------------------------- Report from JSON
def report_from_dict(data: dict[str, Any]) -> Report:
    """Rebuild a :class:`Report` from ``Report.to_dict()`` (derived keys are dropped; a missing field raises)."""
    return _build(Report, data)


_HINTS: dict[type, dict[str, Any]] = {}


def _build(cls: type, data: Any) -> Any:
    if not isinstance(data, dict):
        raise ValueError(f"{cls.__name__}: expected an object")
    from_dict = getattr(cls, "from_dict", None)
    if from_dict is not None:  # a fact whose JSON is laid out otherwise than its fields (AdapterFacts)
        return from_dict(data)
    hints = _HINTS.get(cls)
    if hints is None:
        hints = _HINTS[cls] = typing.get_type_hints(cls, vars(report_module))
    kwargs = {}
    for f in dataclasses.fields(cls):
        if f.name not in data:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise ValueError(f"{cls.__name__}.{f.name} missing")
            continue
        kwargs[f.name] = _convert(hints[f.name], data[f.name])
    return cls(**kwargs)


def _convert(hint: Any, value: Any) -> Any:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (types.UnionType, typing.Union):  # ``X | None``: a fact that may be absent
        if value is None and type(None) in args:
            return None
        facts = [arg for arg in args if isinstance(arg, type) and dataclasses.is_dataclass(arg)]
        return _convert(facts[0], value) if len(facts) == 1 else value
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _build(hint, value)
    if origin is list and args and isinstance(args[0], type) and dataclasses.is_dataclass(args[0]):
        if not isinstance(value, list):
            raise ValueError("expected a list")
        return [_build(args[0], item) for item in value]
    return value


def cached(source: ModelSource, request: AuditRequest, run: Callable[[], Report]) -> tuple[Report, bool]:
    """``run()``'s report, or the cached facts for the same inputs: (report without fresh findings?, hit)."""
    key = cache_key(source, request)
    if key is not None:
        hit = load(key)
        if hit is not None:
            hit.from_cache = True
            return hit, True
    report = run()
    if key is not None:
        store(key, report)
    return report, False
