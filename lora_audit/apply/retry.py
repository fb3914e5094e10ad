"""When PEFT refuses one entry: find which, with PEFT's own layer factory, and drop it.

PEFT raises on the first entry it cannot wrap (a layer type LoRA does not support, DoRA on an
unsupported layer, half of a fused-expert pair, ``modules_to_save`` on a LoRA-adapted module). The
audit drops that entry and applies the rest; the dropped entry becomes a finding.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from lora_audit.apply.matching import ADAPTER, matches, probe_modules_to_save
from lora_audit.apply.snapshot import Snapshot
from lora_audit.capture import capture_messages
from lora_audit.integrations import peft as private
from lora_audit.integrations.peft import peft_text

if TYPE_CHECKING:
    from torch import nn

__all__ = ["drop_entries", "find_refused_entries", "find_refused_saved", "peft_text"]


def find_refused_entries(
    error: BaseException, config: Any, fresh_model: Callable[[], nn.Module], snap: Snapshot
) -> dict[str, tuple[str, str]]:
    """The entries responsible for PEFT's refusal, found with PEFT's own layer factory."""
    message = peft_text(error)
    present = private.unconverted_experts(error)
    if present is not None:
        entries = _list_targets(config)
        return {e: ("fused-experts", message) for e in entries if e.rsplit(".", 1)[-1] in present}
    kind = private.layer_refusal(error)
    if kind is None:
        return {}
    if kind == "dora-unsupported" and private.refused_on_param_wrapper(error) and config.target_parameters:
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


def find_refused_saved(error: BaseException, config: Any, failed_model: nn.Module, snap: Snapshot) -> dict[str, str]:
    """modules_to_save entries that wrap a module PEFT had just given a LoRA layer (PEFT raises TypeError)."""
    from peft.tuners.lora import LoraLayer

    message = peft_text(error)
    if not private.refused_saved_on_lora(error) or not config.modules_to_save:
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
    try:
        with capture_messages("probe"):
            private.create_new_module(probe_config, ADAPTER, copy.deepcopy(module), name)
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
