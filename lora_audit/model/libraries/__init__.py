"""The builders' registry: one module per library that builds models, chosen from the config files.

Each module has ``NAME`` (the library, as ``ModelInfo.library`` says it), ``detect(source)``
(does it recognise this located config?), ``build(source, ...)`` (a meta-device
:class:`~lora_audit.model.build.BuiltModel`) and, for an optional library, ``require(source)`` (is it
installed? asked before torch is imported). The first module whose ``detect`` answers wins;
transformers comes last and takes the rest. Adding a library is one module and one name here.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

from lora_audit.model.build import BuiltModel
from lora_audit.model.source import ModelSource

_MODULE_NAMES = ("diffusers", "timm", "sentence_transformers", "transformers")
#: The builders, in the order their ``detect`` is asked (each imports its library only when it builds).
LIBRARIES: tuple[ModuleType, ...] = tuple(importlib.import_module(f"{__name__}.{name}") for name in _MODULE_NAMES)


def for_source(source: ModelSource) -> ModuleType:
    """The library module that builds ``source``."""
    return next(module for module in LIBRARIES if module.detect(source))


def require(source: ModelSource) -> None:
    """Raise ``library-missing`` now, without importing torch, when the library that builds ``source`` is absent.

    A library module may have ``require(source)``; building would import the library anyway and say the same.
    """
    check = getattr(for_source(source), "require", None)
    if check is not None:
        check(source)


def build(source: ModelSource, **options: Any) -> BuiltModel:
    """Build ``source`` on the meta device with the library its files name."""
    return for_source(source).build(source, **options)
