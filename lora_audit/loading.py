"""Read a LoRA config file into parsed data: the one way every front-end gets at a file.

This module owns everything about the file as a file: where it is (an adapter directory means its
``adapter_config.json``), how large it may be, special files, JSON or YAML, and how deeply it may
nest. What the keys *mean* is the front-ends' business (``lora_audit.frontends``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import AuditError
from .source import path_exists, read_small_text, user_path

ADAPTER_CONFIG_NAME = "adapter_config.json"
#: Lists and mappings in a real LoRA config nest two or three deep; far deeper would overflow the stack
#: of the code that copies and prints the config.
MAX_NESTING = 32


@dataclass
class LoadedFile:
    """A config file as parsed data, with its text (for line numbers)."""

    path: Path
    data: dict[str, Any]
    text: str


def load_config_file(file: str | Path) -> LoadedFile:
    """Read a JSON/YAML config file, an adapter_config.json, or an adapter directory holding one."""
    path = user_path(file)
    if path_exists(path) and path.is_dir():
        if not (path / ADAPTER_CONFIG_NAME).is_file():
            raise AuditError(
                "lora-config-not-found",
                f"{file} has no {ADAPTER_CONFIG_NAME}",
                "pass an adapter directory, or a JSON/YAML file of LoraConfig fields",
            )
        path = path / ADAPTER_CONFIG_NAME
    if not path_exists(path):
        raise AuditError("lora-config-not-found", f"{file}: no such file", "check the --config path")
    # Not only regular files: --config <(...) and /dev/stdin are pipes.
    text = read_small_text(path, "lora-config-unreadable")
    data = _parse(path, text)
    if _nesting(data) > MAX_NESTING:
        raise _too_deep(path)
    if not isinstance(data, dict):
        raise AuditError(
            "lora-config-invalid",
            f"{path} holds a {type(data).__name__}, not a mapping of LoraConfig fields",
            "write the config as key: value pairs (r, lora_alpha, target_modules, ...)",
        )
    return LoadedFile(path=path, data=data, text=text)


def _parse(path: Path, text: str) -> Any:
    if path.suffix.lower() in (".yaml", ".yml"):
        import yaml

        try:
            return yaml.safe_load(text)
        except RecursionError:
            raise _too_deep(path) from None
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" (line {mark.line + 1})" if mark is not None else ""
            raise AuditError(
                "lora-config-malformed",
                f"{path} is not valid YAML{where}: {getattr(exc, 'problem', None) or exc}",
                "fix the file",
            ) from None
    try:
        return json.loads(text)
    except RecursionError:
        raise _too_deep(path) from None
    except json.JSONDecodeError as exc:
        raise AuditError(
            "lora-config-malformed",
            f"{path} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})",
            "fix the file (YAML files need a .yaml or .yml suffix)",
        ) from None


def _nesting(value: Any) -> int:
    """How deeply lists and mappings nest in ``value``, found without recursion (it may be deeper than the stack)."""
    deepest, seen, pending = 0, set(), [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if not isinstance(item, (dict, list)) or id(item) in seen:
            continue
        seen.add(id(item))  # YAML aliases share one list many times over: once is enough
        deepest = max(deepest, depth + 1)
        pending += [(child, depth + 1) for child in (item.values() if isinstance(item, dict) else item)]
    return deepest


def _too_deep(path: Path) -> AuditError:
    return AuditError(
        "lora-config-malformed",
        f"{path} nests lists or mappings too deeply to be a LoRA config",
        "write the config as key: value pairs (r, lora_alpha, target_modules, ...)",
    )
