"""Which module each config entry reaches, asked of PEFT's own matching, never re-implemented.

``check_target_module_exists`` answers for each ``target_modules`` / ``target_parameters`` and
``exclude_modules`` entry, one at a time; PEFT's ``modules_to_save`` wrapper logic, run on a
name-only skeleton, answers for each ``modules_to_save`` entry.
"""

from __future__ import annotations

import copy
from collections import Counter
from types import SimpleNamespace
from typing import Any

from lora_audit.apply.snapshot import Snapshot
from lora_audit.config.lora_config import LoraSpec, TargetEntry
from lora_audit.integrations.peft import (
    check_target_module_exists,
    include_all_linear_layers,
    is_modules_to_save_wrapper,
    moe_conversion_table,
    restore_modules,
    set_trainable,
    target_module_matched,
)
from lora_audit.model.build import BuiltModel
from lora_audit.report import SavedMatch, TargetMatch

ADAPTER = "default"


def _single_entry_config(final: Any, target: Any) -> Any:
    probe = copy.copy(final)
    probe.target_modules = target
    probe.target_parameters = None
    return probe


def matches(final: Any, target: Any, names: list[str], ignore_layers: bool = False) -> list[str]:
    """Module names PEFT's own matching selects for ``target`` under ``final``'s other settings."""
    probe = _single_entry_config(final, target)
    if ignore_layers:
        probe.layers_to_transform = None
        probe.layers_pattern = None
    out = []
    for name in names:
        if not name:
            continue
        if target_module_matched(probe, name):
            out.append(name)
    return out


def target_matches(
    entries: list[TargetEntry],
    final: Any,
    peft_model: Any,
    snap: Snapshot,
    refused: dict[str, tuple[str, str]],
    built: BuiltModel,
) -> list[TargetMatch]:
    tuner = peft_model.base_model if peft_model is not None else None
    targeted = list(getattr(tuner, "targeted_module_names", []) or [])
    targeted_params = list(getattr(tuner, "targeted_parameter_names", []) or [])
    conversions = moe_conversion_table(built.model_type)
    final_targets = getattr(final, "target_modules", None)
    user_params = [e.pattern for e in entries if e.kind == "parameter"]
    out: list[TargetMatch] = []
    for entry in entries:
        match = TargetMatch(pattern=entry.pattern, kind=entry.kind, matched=0, modules=[])
        if entry.pattern in refused:
            match.dropped_kind, match.dropped = refused[entry.pattern]
        if entry.kind in ("all-linear", "defaults", "regex"):
            # One entry that PEFT resolved as a whole: everything it targeted came from it.
            if peft_model is not None:
                converted = [p for p in targeted_params if not _param_matches(user_params, p)]
                match.modules = list(targeted) + converted
                match.converted_to = sorted(
                    {new for p in converted for new in conversions.values() if p == new or p.endswith("." + new)}
                )
                if match.converted_to:
                    meant = _resolved_before_conversion(entry, final, snap, built)
                    match.unadapted_after_conversion = sorted(set(meant) - set(targeted))
            elif entry.kind != "all-linear" and final_targets is not None:
                match.modules = matches(final, final_targets, snap.names)
            if entry.kind != "regex" and isinstance(final_targets, (set, list)):
                match.resolved = sorted(final_targets)
                if entry.kind == "all-linear" and getattr(final, "target_parameters", None):
                    match.resolved += sorted(set(final.target_parameters) - set(user_params))
        elif entry.kind == "name":
            match.modules = matches(final, [entry.pattern], snap.names)
            if getattr(final, "modules_to_save", None):
                unsaved = copy.copy(final)
                unsaved.modules_to_save = None
                match.excluded_by_modules_to_save = sorted(
                    set(matches(unsaved, [entry.pattern], snap.names)) - set(match.modules)
                )
            if getattr(final, "layers_to_transform", None) is not None:
                match.matched_without_layer_filter = len(
                    matches(final, [entry.pattern], snap.names, ignore_layers=True)
                )
            old = entry.pattern.rsplit(".", 1)[-1]
            if old in conversions and peft_model is not None and entry.pattern not in (final_targets or ()):
                # PEFT rewrote this v4 expert name into a fused target_parameters entry and dropped it from
                # target_modules: modules of that name elsewhere (dense MLPs, shared experts) stay unadapted.
                match.unadapted_after_conversion = match.modules
                new = conversions[old]
                match.modules = [p for p in targeted_params if p.rsplit(".", 1)[-1] == new]
                match.converted_to = [new] if match.modules else []
        else:  # parameter
            pool = targeted_params if peft_model is not None and match.dropped is None else snap.parameter_names
            match.modules = [p for p in pool if _param_matches([entry.pattern], p)]
        match.matched = len(match.modules)
        match.types = dict(Counter(_type_of(m, snap) for m in match.modules))
        out.append(match)
    return out


def _resolved_before_conversion(entry: TargetEntry, final: Any, snap: Snapshot, built: BuiltModel) -> list[str]:
    """The modules a whole-config entry (all-linear, a regex) names before PEFT's MoE conversion rewrote it.

    PEFT resolves such an entry to leaf names and moves expert names to target_parameters, which also
    drops ordinary Linear layers of the same name (dense MLPs, shared experts) from target_modules.
    """
    if entry.kind == "all-linear":
        probe = copy.copy(final)
        probe.target_modules = entry.pattern
        resolved = include_all_linear_layers(probe, built.factory()).target_modules
        return sorted(resolved)
    if entry.kind == "regex":
        return matches(final, entry.pattern, snap.names)
    return []


def _param_matches(patterns: list[str], key: str) -> bool:
    # The rule PEFT's _inject_parameters applies to target_parameters, through its own helper:
    # check_target_module_exists with the parameter name as the "module" key.
    if not patterns:
        return False
    probe = SimpleNamespace(
        exclude_modules=None,
        modules_to_save=None,
        target_modules=list(patterns),
        target_parameters=None,
        layers_to_transform=None,
        layers_pattern=None,
    )
    return bool(check_target_module_exists(probe, key))


def _type_of(name: str, snap: Snapshot) -> str:
    if name in snap.types:
        return snap.types[name]
    owner, _, leaf = name.rpartition(".")
    shape = snap.direct_parameters.get(owner, {}).get(leaf)
    return "param " + "x".join(map(str, shape)) if shape is not None else "?"


def exclude_matches(exclude: Any, final: Any, snap: Snapshot) -> dict[str, list[str]]:
    """For each exclude_modules entry: the modules the targets would adapt that it keeps out."""
    if not exclude or getattr(final, "target_modules", None) is None:
        return {}
    entries = [exclude] if isinstance(exclude, str) else sorted(exclude)
    unexcluded = copy.copy(final)
    unexcluded.exclude_modules = None
    would_adapt = set(matches(unexcluded, final.target_modules, snap.names))
    out = {}
    for entry in entries:
        probe = copy.copy(unexcluded)
        probe.exclude_modules = entry if isinstance(exclude, str) else [entry]
        out[entry] = sorted(would_adapt - set(matches(probe, final.target_modules, snap.names)))
    return out


def saved_matches(
    final: Any, spec: LoraSpec, snap: Snapshot, after: dict[str, Any], refused: dict[str, str]
) -> list[SavedMatch]:
    user = spec.modules_to_save
    entries = list(dict.fromkeys(list(user) + list(getattr(final, "modules_to_save", None) or [])))
    if not entries:
        return []
    copies = _copy_params(after)
    skeleton = _Skeleton(snap.all_names)  # built once: rebuilding it per entry made 2,000 entries cost minutes
    out = []
    for entry in entries:
        wrapped = skeleton.probe(entry)
        params = sum(copies.get(n, snap.subtree_params.get(n, 0)) for n in wrapped)
        origin = "user" if entry in user else "task_type"
        out.append(SavedMatch(pattern=entry, matched=len(wrapped), modules=wrapped, params=params, origin=origin,
                              dropped=refused.get(entry)))
    return out


def probe_modules_to_save(names: list[str], entry: str) -> list[str]:
    """Which modules PEFT's ``modules_to_save`` logic wraps for ``entry``.

    PEFT's ``_set_trainable`` runs on a skeleton of empty modules with the same names, with a
    wrapper class that only records; so the answer is PEFT's matching, on no real model.
    """
    return _Skeleton(names).probe(entry)


class _Skeleton:
    """Empty modules with the model's names, on which PEFT's ``_set_trainable`` is run and then undone."""

    def __init__(self, names: list[str]) -> None:
        from torch import nn

        root = nn.Module()
        for name in names:
            if not name:
                continue
            parent_name, _, leaf = name.rpartition(".")
            parent = root.get_submodule(parent_name) if parent_name else root
            if not hasattr(parent, leaf) or not isinstance(getattr(parent, leaf), nn.Module):
                parent.add_module(leaf, nn.Module())
        self.root = root
        self.modules = dict(root.named_modules(remove_duplicate=False))

    def probe(self, entry: str) -> list[str]:
        from torch import nn

        class _Recorder(nn.Module):
            def __init__(self, target: nn.Module, adapter_name: str, **kwargs: Any) -> None:
                super().__init__()

            def set_adapter(self, *args: Any, **kwargs: Any) -> None:
                pass

            def update(self, *args: Any, **kwargs: Any) -> None:
                pass

        try:
            set_trainable(self.root, ADAPTER, entry, _Recorder)
        except (ValueError, AttributeError):
            wrapped: list[str] = []
        else:
            wrapped = [n for n, m in self.root.named_modules() if isinstance(m, _Recorder)]
        self._restore()
        return wrapped

    def _restore(self) -> None:
        """Put every original module back where PEFT replaced it (outermost first, so inner paths exist again)."""
        restore_modules(self.root, self.modules)


def _copy_params(after: dict[str, Any]) -> dict[str, int]:
    """Parameters of each full copy PEFT made for modules_to_save."""
    out = {}
    for name, module in after.items():
        if is_modules_to_save_wrapper(module):
            out[name] = sum(p.numel() for p in module.modules_to_save[ADAPTER].parameters())
    return out
