"""Read a LoRA config file into parsed data: the one way every front-end gets at a file.

This module owns everything about the file as a file: where it is (an adapter directory means its
``adapter_config.json``), how large it may be, special files, JSON or YAML, and how deeply it may
nest. What the keys *mean* is the front-ends' business (``lora_audit.config.frontends``).

The cost of a file is bounded, not only its size: a YAML document is composed (by libyaml when
PyYAML has it) and its size *with every alias expanded* is counted on the node graph before any
Python object is built, so an alias bomb (nine levels of ``&a``/``*a`` under any field) is refused
in milliseconds; a JSON document is counted once parsed. Numbers too large to use are refused with
their field named (:mod:`lora_audit.guards.numbers`).
"""

from __future__ import annotations

import ast
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from lora_audit.config import other_trainers
from lora_audit.config.static.shell import read_command
from lora_audit.config.static.sources import (
    MAX_CODE_BYTES,
    MAX_NOTEBOOK_BYTES,
    MAX_SCRIPT_BYTES,
    Program,
    kind_of,
    read_program,
)
from lora_audit.errors import AuditError
from lora_audit.guards.numbers import check_numbers
from lora_audit.model.local import path_exists, read_small_text, user_path

ADAPTER_CONFIG_NAME = "adapter_config.json"
#: Values in one config file, aliases expanded. Real LoRA and framework configs hold tens to hundreds.
MAX_VALUES = 100_000
#: Lists and mappings in a real LoRA config nest two or three deep; far deeper would overflow the stack
#: of the code that copies and prints the config.
MAX_NESTING = 32


@dataclass
class LoadedFile:
    """A config file as parsed data, with its text (for line numbers).

    A training script, notebook or Markdown tutorial has no data: its parsed code is ``program``, which
    the ``python`` front-end reads (statically: nothing in it is run).
    """

    path: Path
    data: dict[str, Any]
    text: str
    program: Program | None = None


def load_config_file(file: str | os.PathLike[str]) -> LoadedFile:
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
    kind = kind_of(path)
    limit = MAX_NOTEBOOK_BYTES if kind == "notebook" else MAX_SCRIPT_BYTES
    text = read_small_text(path, "lora-config-unreadable", limit=limit)
    if kind is None and path.suffix.lower() not in (".json", ".yaml", ".yml") and looks_like_python(text):
        kind = "python"  # a script without a .py suffix (``train``): decided by its content
    if kind is not None:
        return LoadedFile(path=path, data={}, text=text, program=read_program(path, kind, text))
    if path.suffix.lower() in (".sh", ".bash"):
        command = read_command(text, str(path))
        if command is not None:  # swift sft ...: its arguments, as ms-swift's parser takes them
            return LoadedFile(path=path, data=command, text=text)
        framework = other_trainers.identify_command(text)
        if framework is not None:
            message, hint = other_trainers.refusal(framework, "command line")
            raise AuditError("not-a-lora-config", f"{path} {message}", hint)
        raise AuditError("not-a-lora-config", f"{path} is a shell script, not a LoRA config",
                         "pass the config file it trains with (JSON/YAML), or its Python training script")
    data = _parse(path, text)
    if count_values(data, MAX_VALUES) > MAX_VALUES:
        raise _too_many(path, f"more than {MAX_VALUES:,}")
    check_numbers(data, str(path), "invalid-lora-value")
    if _nesting(data) > MAX_NESTING:
        raise _too_deep(path)
    if not isinstance(data, dict):
        raise AuditError(
            "lora-config-invalid",
            f"{path} holds a {type(data).__name__}, not a mapping of LoraConfig fields",
            "write the config as key: value pairs (r, lora_alpha, target_modules, ...)",
        )
    return LoadedFile(path=path, data=data, text=text)


def looks_like_python(text: str) -> bool:
    """Whether a file with no telling suffix is a Python program that builds a PEFT config (never run)."""
    if not text.strip() or text.lstrip()[:1] in "{[" or len(text) > MAX_SCRIPT_BYTES:
        return False
    if not any(word in text for word in ("LoraConfig", "get_peft_model")):
        return False
    if len(text) > MAX_CODE_BYTES:  # not parsed (seconds and gigabytes): read_program refuses it by its size
        return re.search(r"^(import|from)\s+\w", text, re.MULTILINE) is not None
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return any(isinstance(node, (ast.Import, ast.ImportFrom)) for node in tree.body)


def _parse(path: Path, text: str) -> Any:
    if path.suffix.lower() in (".yaml", ".yml"):
        try:
            return _load_yaml(path, text)
        except RecursionError:
            raise _too_deep(path) from None
        except ValueError as exc:  # an integer of more than 4,300 digits
            raise _unusable_number(path, exc) from None
        except yaml.YAMLError as exc:
            if "nesting depth" in str(getattr(exc, "problem", "")):  # libyaml's own limit on [[[[...
                raise _too_deep(path) from None
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
            "fix the file (YAML files need a .yaml or .yml suffix; training scripts .py, notebooks .ipynb, "
            "tutorials .md)",
        ) from None
    except ValueError as exc:  # an integer of more than 4,300 digits
        raise _unusable_number(path, exc) from None


def _load_yaml(path: Path, text: str) -> Any:
    """``yaml.safe_load``, refusing a document whose aliases expand past :data:`MAX_VALUES` before building it."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        size = expanded_size(node, MAX_VALUES)
        if size > MAX_VALUES:
            raise _too_many(path, "with its aliases expanded, more than")
        return loader.construct_document(node)
    finally:
        loader.dispose()


def expanded_size(root: Any, limit: int) -> int:
    """How many values a YAML node graph holds once every alias is expanded; stops past ``limit``.

    Aliases are the same node object met again, so each node's size is computed once (memoised),
    and a node that contains itself (``&a [*a]``) counts as past the limit.
    """
    sizes: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if key in sizes:
            continue
        children = _children(node)
        if children_done:
            on_path.discard(key)
            sizes[key] = min(limit + 1, 1 + sum(sizes[id(child)] for child in children))
            continue
        if key in on_path:
            return limit + 1  # recursive: infinite once expanded
        on_path.add(key)
        stack.append((node, True))
        for child in children:
            if id(child) in on_path:
                return limit + 1
            if id(child) not in sizes:
                stack.append((child, False))
    return sizes[id(root)]


def _children(node: Any) -> list[Any]:
    value = getattr(node, "value", None)
    if not isinstance(value, list):
        return []  # a scalar
    out: list[Any] = []
    for item in value:
        out += list(item) if isinstance(item, tuple) else [item]  # mappings hold (key, value) pairs
    return out


def count_values(data: Any, limit: int) -> int:
    """How many values parsed ``data`` holds, every shared (aliased) object counted each time; stops past ``limit``."""
    count, pending = 0, [data]
    while pending and count <= limit:
        item = pending.pop()
        count += 1
        if isinstance(item, dict):
            pending += item.keys()
            pending += item.values()
        elif isinstance(item, (list, tuple)):
            pending += item
    return count


def _too_many(path: Path, how: str) -> AuditError:
    return AuditError(
        "lora-config-too-large",
        f"{path} holds {how} {MAX_VALUES:,} values: far more than any LoRA config (a YAML alias bomb, or a data file)",
        "pass the LoRA config itself: a few dozen keys",
    )


def _unusable_number(path: Path, exc: ValueError) -> AuditError:
    return AuditError(
        "invalid-lora-value",
        f"{path} holds a number Python cannot read: {str(exc)[:120]}",
        "fix the value: LoRA settings are small numbers (r 8-64, lora_alpha 16-128)",
    )


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
