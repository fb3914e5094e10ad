"""On disk: a model directory or config file, read with every limit a config file needs.

A directory holding ``config.json`` (or a diffusers pipeline's ``model_index.json``), or a path to
the config file itself. Only a regular file is read, or a pipe that delivers in time; nothing here
waits forever, reads a weights file, or accepts a config that is not a JSON object with a model_type.
"""

from __future__ import annotations

import json
import os
import select
import stat
import time
from pathlib import Path
from typing import Any

from lora_audit.errors import AuditError, first_line
from lora_audit.guards.files import read_regular_prefix
from lora_audit.guards.numbers import check_numbers
from lora_audit.model.source import CONFIG_NAME, INDEX_NAME, MAX_CONFIG_BYTES, WEIGHT_SUFFIXES, ModelSource


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


def is_file(path: Path) -> bool:
    """``path.is_file()``, but False (not PermissionError) inside a directory we may not look into."""
    try:
        return path.is_file()
    except OSError:
        return False


def local_source(spec: str, path: Path) -> ModelSource:
    """The config.json of a model directory (a pipeline directory: its model_index.json), or the file ``path``."""
    try:
        is_dir = path.is_dir()
    except OSError:  # not allowed to look: reading it reports why
        is_dir = False
    if is_dir and is_file(path / INDEX_NAME):
        path, is_dir = path / INDEX_NAME, False  # a diffusers pipeline: expanded to its component by the caller
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


def read_small_text(path: Path, code: str, allow_pipe: bool = True, limit: int = MAX_CONFIG_BYTES) -> str:
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
        data = _read_limited(path, stat.S_ISFIFO(mode), limit)
        if len(data) > limit:
            raise AuditError(
                code,
                f"{path} is larger than {limit // (1024 * 1024)} MB: not a config file",
                "pass the config file itself (a few kB of JSON or YAML), never a weights or data file",
            )
        return data.decode("utf-8")
    except PermissionError:
        raise AuditError(code, f"cannot read {path}: permission denied",
                         "check the file's permissions (and its directory's), or run as a user who can read it",
                         ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise AuditError(code, f"cannot read {path}: {exc}", "check the file (a UTF-8 JSON or YAML text)") from None


def _read_limited(path: Path, pipe: bool, limit: int = MAX_CONFIG_BYTES) -> bytes:
    """At most ``limit + 1`` bytes; from a pipe, only as long as it delivers within PIPE_SECONDS."""
    if not pipe:
        # checked on the open descriptor: a file swapped for a FIFO after the stat above cannot block
        return read_regular_prefix(path, limit + 1)

    # O_NONBLOCK: opening a FIFO for reading otherwise waits for a writer that may never come.
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    chunks: list[bytes] = []
    size = 0
    give_up = time.monotonic() + PIPE_SECONDS
    try:
        while size <= limit:
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


def looks_like_path(spec: str) -> bool:
    # A hub id has at most one slash ("org/name"); anything else that does not exist is a bad path.
    return spec.startswith((".", "/", "~")) or spec.endswith(".json") or spec.count("/") > 1 or "\\" in spec


