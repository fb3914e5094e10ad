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
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import AuditError

if TYPE_CHECKING:
    from ..build import BuiltModel
    from ..loading import LoadedFile

#: One module per format. Adding a format is one file in this package and one name here.
_MODULE_NAMES = ("peft",)


@dataclass
class Expansion:
    """What a model-dependent step of a translation produced once the model was built."""

    fields: dict[str, Any]  #: LoraConfig fields to set (they replace the file's)
    steps: list[str] = field(default_factory=list)  #: shown in the report, e.g. "lora_target_linear -> 7 names: ..."


@dataclass
class Translation:
    """A config file as its framework reads it: the LoraConfig it builds, and how."""

    format: str  #: the front-end's NAME
    fields: dict[str, Any]  #: LoraConfig fields (PEFT's names), before any model-dependent step
    #: the base model the file names (``base_model``, ``model_name_or_path``, ``base_model_name_or_path``)
    model: str | None = None
    #: what the framework did to the file's keys, in words, in order
    steps: list[str] = field(default_factory=list)
    #: LoraConfig fields PEFT does not know (a newer or older PEFT wrote them): ignored, reported as info
    unknown_fields: list[str] = field(default_factory=list)
    #: the quantization the file asks for, as ``LoraSpec.quantization_request``
    quantization: dict[str, Any] | None = None
    #: model-dependent step, run on the built model before PEFT applies the config
    expand: Callable[[BuiltModel], Expansion] | None = None


def _load_modules() -> tuple[Any, ...]:
    return tuple(importlib.import_module(f".{name}", __name__) for name in _MODULE_NAMES)


FRONTENDS = _load_modules()
BY_NAME = {m.NAME: m for m in FRONTENDS}


def detect(data: dict[str, Any]) -> Any:
    """The front-end module whose format ``data`` is; an AuditError naming the formats when none fits."""
    scored = [(m.detect(data), i, m) for i, m in enumerate(FRONTENDS)]
    best = max(scored, key=lambda s: (s[0], -s[1]))
    if best[0] <= 0:
        raise AuditError(
            "not-a-lora-config",
            "the file is not a LoRA config lora-audit can read",
            "give a PEFT LoraConfig / adapter_config.json"
            + "".join(f", {m.NAME}" for m in FRONTENDS if m.NAME != "peft")
            + " config file",
        )
    return best[2]


def translate(loaded: LoadedFile) -> Translation:
    """Detect the file's format and translate it with that front-end."""
    try:
        frontend = detect(loaded.data)
    except AuditError as exc:
        raise AuditError(exc.code, f"{loaded.path}: {exc.message}", _hint_for(loaded.data, exc.hint)) from None
    return frontend.translate(loaded)


def _hint_for(data: dict[str, Any], default: str) -> str:
    if "model_type" in data:
        return "this looks like a model config.json: pass it as MODEL, and the LoRA config with --config"
    return default


__all__ = ["BY_NAME", "FRONTENDS", "Expansion", "Translation", "detect", "translate"]
