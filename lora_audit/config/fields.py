"""The fields of the installed PEFT's ``LoraConfig`` (or another method's config), and a mapping sorted into them.

Shared by the PEFT front-end (a file of LoraConfig fields) and ``lora_config.py`` (a dict passed to
the Python API); it sits below both, so neither imports the other.
"""

from __future__ import annotations

from typing import Any

from lora_audit.config import methods
from lora_audit.config.methods import LORA
from lora_audit.errors import AuditError

#: Bookkeeping fields of a saved adapter_config.json that say nothing about what LoRA adapts.
IGNORED_FILE_FIELDS = {"peft_type", "auto_mapping", "peft_version", "base_model_name_or_path", "revision"}


def lora_field_names(method: str = LORA) -> set[str]:
    """The fields of the installed PEFT's ``LoraConfig`` (or of ``method``'s config class)."""
    return methods.field_names(method)


def split_known(data: dict[str, Any], where: str, method: str = LORA) -> tuple[dict[str, Any], list[str]]:
    """Config fields of ``data`` (minus a saved adapter's bookkeeping), and the keys PEFT does not know."""
    known_names = lora_field_names(method)
    known = {k: v for k, v in data.items() if k in known_names and k not in IGNORED_FILE_FIELDS}
    unknown = [k for k in data if k not in known_names]
    if data and not known and not any(k in data for k in ("peft_type", "r", "target_modules")):
        hint = "pass a JSON/YAML file of LoraConfig fields (r, lora_alpha, target_modules, ...) or adapter_config.json"
        if "model_type" in data:
            hint = "this looks like a model config.json: pass it as MODEL, and the LoRA config with --config"
        raise AuditError("not-a-lora-config", f"{where} has no LoraConfig fields", hint)
    return known, unknown
