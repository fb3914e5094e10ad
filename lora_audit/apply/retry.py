"""When PEFT refuses one entry: find which, with PEFT's own layer factory, and drop it.

PEFT raises on the first entry it cannot wrap (a layer type LoRA does not support, DoRA on an
unsupported layer, half of a fused-expert pair, ``modules_to_save`` on a LoRA-adapted module). The
audit drops that entry and applies the rest; the dropped entry becomes a finding.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from lora_audit.apply.matching import ADAPTER, matches, probe_modules_to_save
from lora_audit.apply.snapshot import Snapshot
from lora_audit.capture import capture_messages
from lora_audit.integrations.peft import create_new_module

if TYPE_CHECKING:
    from torch import nn


def peft_text(exc: BaseException, limit: int = 400) -> str:
    """PEFT's message on one line, cut short: some embed a module's repr or a C++ stack trace."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


_UNSUPPORTED = re.compile(r"Target module .* is not supported", re.S)
_DORA = re.compile(r"does not (support|work with) (DoRA|use_dora)", re.I)
_FUSED = re.compile(r"Cannot convert PEFT target\(s\) (?P<present>.+?) without also targeting (?P<missing>.+?) because")


def find_refused_entries(
    error: BaseException, config: Any, fresh_model: Callable[[], nn.Module], snap: Snapshot
) -> dict[str, tuple[str, str]]:
    """The entries responsible for PEFT's refusal, found with PEFT's own layer factory."""
    message = peft_text(error)
    fused = _FUSED.search(message)
    if fused:
        present = {t.strip() for t in fused.group("present").split(",")}
        entries = _list_targets(config)
        return {e: ("fused-experts", message) for e in entries if e.rsplit(".", 1)[-1] in present}
    if not (_UNSUPPORTED.search(message) or _DORA.search(message)):
        return {}
    kind = "dora-unsupported" if _DORA.search(message) else "unsupported-layer"
    if kind == "dora-unsupported" and "ParamWrapper" in message and config.target_parameters:
        # DoRA has no variant for fused-parameter LoRA: every target_parameters entry is refused.
        return {p: (kind, f"target_parameters use lora.ParamWrapper: {message}") for p in config.target_parameters}
    out: dict[str, tuple[str, str]] = {}
    modules = dict(fresh_model().named_modules())
    for entry in _list_targets(config):
        for name in _first_of_each_type(matches(config, [entry], snap.names), snap):
            problem = _creation_error(config, modules[name], name)
            if problem is not None:
                out[entry] = (kind, f"{name} ({snap.types[name]}): {problem}")
                break
    return out


_SAVED_ON_LORA = re.compile(r"modules_to_save cannot be applied to modules of type")


def find_refused_saved(error: BaseException, config: Any, failed_model: nn.Module, snap: Snapshot) -> dict[str, str]:
    """modules_to_save entries that wrap a module PEFT had just given a LoRA layer (PEFT raises TypeError)."""
    from peft.tuners.lora import LoraLayer

    message = peft_text(error)
    if not _SAVED_ON_LORA.search(message) or not config.modules_to_save:
        return {}
    # The failed attempt got as far as injecting LoRA: its LoRA layers are what the copies would wrap.
    adapted = {name for name, module in failed_model.named_modules() if isinstance(module, LoraLayer)}
    out = {}
    for entry in config.modules_to_save:
        both = [n for n in probe_modules_to_save(snap.all_names, entry) if n in adapted]
        if both:
            out[entry] = f"{', '.join(both[:3])} also gets a LoRA layer: {message}"
    return out


def _list_targets(config: Any) -> list[str]:
    targets = config.target_modules
    if isinstance(targets, (set, list, tuple)):
        return sorted(targets)
    return []


def _first_of_each_type(names: list[str], snap: Snapshot) -> list[str]:
    seen: dict[str, str] = {}
    for n in names:
        seen.setdefault(snap.types[n], n)
    return list(seen.values())


def _creation_error(config: Any, module: nn.Module, name: str) -> str | None:
    """Ask PEFT's LoRA layer factory whether it can wrap ``module``; its error text, or None."""
    probe_config = copy.deepcopy(config)
    kwargs = dict(
        r=probe_config.r,
        lora_alpha=probe_config.lora_alpha,
        target_name=name,
        loaded_in_8bit=False,
        loaded_in_4bit=False,
        ephemeral_gpu_offload=False,
        parameter_name=None,
        tied_adapter={},
        device_map=None,
    )
    try:
        with capture_messages("probe"):
            create_new_module(probe_config, ADAPTER, copy.deepcopy(module), **kwargs)
    except Exception as exc:  # noqa: BLE001
        return peft_text(exc)
    return None


def drop_entries(config: Any, refused: dict[str, tuple[str, str]]) -> bool:
    """Remove refused entries from ``config``; False when nothing is left to try."""
    modules = [t for t in _list_targets(config) if t not in refused]
    params = [p for p in (config.target_parameters or []) if p not in refused]
    if len(modules) == len(_list_targets(config)) and len(params) == len(config.target_parameters or []):
        return False
    if not modules and not params:
        return False
    # An empty set, not None: None would make PEFT fall back to its default targets.
    config.target_modules = set(modules)
    config.target_parameters = params or None
    return True
