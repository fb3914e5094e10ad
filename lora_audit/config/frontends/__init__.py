"""Front-ends: read a config file the way the framework that owns it reads it.

One module per format, each behind this registry (the same shape as the rules). A file's format
is detected from its keys, never from its extension: each front-end's ``detect`` scores how sure
it is that the parsed file is its own, and the highest score wins. Its ``translate`` turns the
file into exactly the ``LoraConfig`` fields its framework hands PEFT, by reproducing that
framework's code (the module docstring cites the version and commit read).

Some translations depend on the model (axolotl's ``lora_target_linear`` expands to the leaf names of
the model's Linear layers): such a front-end leaves an ``expand`` step that the pipeline runs once
the model is built, before PEFT is applied.

Adding a format is one module here and one name in ``_MODULE_NAMES``. A module defines:

``NAME``
    the format's name, as reports show it (``peft``, ``axolotl``, ...)
``detect(data) -> int``
    0 when the file is not this format; higher the surer (keys only this framework uses)
``translate(loaded) -> Translation``
    the LoraConfig fields, the model the file names, and the steps taken

and may define:

``KNOWN_KEYS``
    every key of the framework's config that the front-end reads or knows to be unrelated to LoRA
    (``sequence_len``, ``datasets``...). With it, the registry sorts the file's other keys: one that
    looks like LoRA (starts with one of ``LORA_PREFIXES``, or is a near-miss of a LoRA key the
    front-end reads) is *unknown* and becomes a warning (LA026) with a did-you-mean; the rest are
    *ignored* framework settings, listed in the report. Without it (PEFT's own format), keys that are
    not LoraConfig fields go to ``unknown_fields`` (LA025).
``LORA_PREFIXES``
    prefixes of the framework's LoRA keys; default ``("lora_", "peft_")``
``LORA_KEYS``
    the keys that feed the LoraConfig (for did-you-mean); default: the ``KNOWN_KEYS`` with a LoRA prefix
``FIELD_KEYS``
    how the framework spells each LoraConfig field (``{"target_parameters": "lora_target_parameters"}``),
    so findings can say which key to write
``SECTION``
    the top-level mapping that holds the LoRA keys (Oumi's ``peft:``), when they are not at the top
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

import yaml

from lora_audit.config import other_trainers
from lora_audit.config.frontends._base import Expansion, Translation, named_model
from lora_audit.config.training import from_keys
from lora_audit.errors import AuditError
from lora_audit.naming import did_you_mean

if TYPE_CHECKING:
    from lora_audit.config.loading import LoadedFile

#: One module per format. Adding a format is one file in this package and one name here.
_MODULE_NAMES = ("peft", "axolotl", "llamafactory", "trl", "oumi", "swift", "openrlhf", "torchtune", "python")


FRONTENDS: tuple[Any, ...] = tuple(importlib.import_module(f".{name}", __name__) for name in _MODULE_NAMES)
BY_NAME = {m.NAME: m for m in FRONTENDS}


def detect(data: dict[str, Any]) -> Any:
    """The front-end module whose format ``data`` is; an AuditError naming the formats when none fits.

    A config of a framework lora-audit does not read (SimpleTuner, torchtune...) is refused by name
    first, whatever keys it shares with a format it resembles.
    """
    framework = other_trainers.identify(data)
    if framework is not None:
        message, hint = other_trainers.refusal(framework)
        raise AuditError("not-a-lora-config", f"the file {message}", hint)
    scored = [(m.detect(data), i, m) for i, m in enumerate(FRONTENDS)]
    best = max(scored, key=lambda s: (s[0], -s[1]))
    if best[0] <= 0:
        raise AuditError(
            "not-a-lora-config",
            "the file is not a LoRA config lora-audit can read",
            "give a PEFT LoraConfig / adapter_config.json"
            + "".join(f", {m.NAME}" for m in FRONTENDS if m.NAME not in ("peft", "python"))
            + " config file, or a training script (.py, .ipynb, .md)",
        )
    return best[2]


def translate(loaded: LoadedFile, select: int | None = None) -> Translation:
    """Detect the file's format and translate it with that front-end.

    A training script (``loaded.program``) is read by the ``python`` front-end; ``select`` picks one of
    the configs it builds (0-based), when it builds several.
    """
    if loaded.program is not None:
        translation = BY_NAME["python"].translate(loaded, select)
        translation.file = str(loaded.path)
        return translation
    try:
        frontend = detect(loaded.data)
    except AuditError as exc:
        raise AuditError(exc.code, f"{loaded.path}: {exc.message}", _hint_for(loaded.data, exc.hint)) from None
    translation = frontend.translate(loaded)
    translation.file = str(loaded.path)
    translation.key_lines, translation.entry_lines = line_index(loaded.text, getattr(frontend, "SECTION", None))
    translation.field_keys = {**getattr(frontend, "FIELD_KEYS", {}), **translation.field_keys}
    training_keys = getattr(frontend, "TRAINING_KEYS", None)
    if training_keys is not None and translation.training is None:
        translation.training = from_keys(loaded.data, training_keys, str(loaded.path), translation.key_lines,
                                         tuple(getattr(frontend, "TRAINING_UNREAD", ())), frontend.NAME)
    known = getattr(frontend, "KNOWN_KEYS", None)
    if known is not None:
        translation.unknown_keys, translation.ignored_keys = sort_keys(loaded.data, frontend)
    return translation


def sort_keys(data: dict[str, Any], frontend: Any) -> tuple[dict[str, list[str]], list[str]]:
    """The file's keys the front-end does not read: LoRA-looking ones (with close known keys), and the rest."""
    known = set(frontend.KNOWN_KEYS)
    prefixes = tuple(getattr(frontend, "LORA_PREFIXES", ("lora_", "peft_")))
    lora_keys = list(getattr(frontend, "LORA_KEYS", None) or [k for k in known if k.startswith(prefixes)])
    unknown: dict[str, list[str]] = {}
    ignored: list[str] = []
    for key in data:
        if not isinstance(key, str) or key in known:
            continue
        close = did_you_mean(key, lora_keys)
        if key.lower().startswith(prefixes) or close or "lora" in key.lower():
            unknown[key] = close
        else:
            ignored.append(key)
    return unknown, ignored


#: Texts up to this size may be read by PyYAML's pure-Python scanner too (it takes seconds per megabyte).
PURE_YAML_LIMIT = 1024 * 1024


def line_index(text: str, section: str | None = None) -> tuple[dict[str, int], dict[str, dict[str, int]]]:
    """1-based lines of each top-level key, and of each scalar list item or mapping key one level below.

    With ``section`` (a front-end's ``SECTION``: Oumi's ``peft``), the keys are those of that top-level
    mapping, where the framework's LoRA keys are. JSON is read as YAML for this (flow style is YAML); a
    text YAML cannot compose gives no lines.
    """
    loaders = [getattr(yaml, "CSafeLoader", yaml.SafeLoader)]  # libyaml: fast, the same marks
    if len(text) <= PURE_YAML_LIMIT:
        loaders.append(yaml.SafeLoader)  # what libyaml refuses (a lone surrogate escape in JSON) PyYAML may read
    root = None
    for loader in loaders:
        try:
            root = yaml.compose(text, Loader=loader)
            break
        except (yaml.YAMLError, RecursionError, ValueError):
            continue
    if root is None:
        return {}, {}
    keys: dict[str, int] = {}
    entries: dict[str, dict[str, int]] = {}
    if not isinstance(root, yaml.MappingNode):
        return keys, entries
    if section is not None:
        root = next((v for k, v in root.value if isinstance(k, yaml.ScalarNode) and k.value == section), None)
        if not isinstance(root, yaml.MappingNode):
            return keys, entries
    for key_node, value_node in root.value:
        if not isinstance(key_node, yaml.ScalarNode):
            continue
        name = key_node.value
        keys.setdefault(name, key_node.start_mark.line + 1)
        items: dict[str, int] = {}
        if isinstance(value_node, yaml.SequenceNode):
            for item in value_node.value:
                if isinstance(item, yaml.ScalarNode):
                    items.setdefault(item.value, item.start_mark.line + 1)
        elif isinstance(value_node, yaml.MappingNode):
            for sub_key, _ in value_node.value:
                if isinstance(sub_key, yaml.ScalarNode):
                    items.setdefault(sub_key.value, sub_key.start_mark.line + 1)
        elif isinstance(value_node, yaml.ScalarNode):
            items.setdefault(value_node.value, value_node.start_mark.line + 1)
        if items:
            entries[name] = items
    return keys, entries


def _hint_for(data: dict[str, Any], default: str) -> str:
    if "model_type" in data and other_trainers.identify(data) is None:
        return "this looks like a model config.json: pass it as MODEL, and the LoRA config with --config"
    return default


__all__ = ["BY_NAME", "FRONTENDS", "Expansion", "Translation", "detect", "line_index", "named_model", "sort_keys",
           "translate"]
