"""Stage 3: apply the LoRA config to the meta model with PEFT itself.

``get_peft_model(..., low_cpu_mem_usage=True)`` keeps the LoRA weights on meta, so even a 671B
model adapts in about a second. Which module each target entry matched is asked of PEFT's own
matching function (``check_target_module_exists``, one entry at a time) and of PEFT's own
``modules_to_save`` wrapper logic (run on a name-only skeleton), never re-implemented.

When PEFT refuses one entry (a layer type LoRA cannot wrap, DoRA on an unsupported layer, a
fused-expert name that cannot be converted), that entry is dropped and the config is applied
again, so the report still covers everything else; the dropped entry becomes a finding.
"""

from __future__ import annotations

import copy
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from .build import BuiltModel
from .capture import capture_messages
from .lora_config import LoraSpec, TargetEntry
from .report import PeftMessage, SavedMatch, TargetMatch

if TYPE_CHECKING:
    from torch import nn

ADAPTER = "default"


@dataclass
class Snapshot:
    """The base model's module tree before PEFT touched it."""

    names: list[str]  #: named_modules() order, without duplicates
    all_names: list[str]  #: named_modules(remove_duplicate=False): what PEFT's modules_to_save logic walks
    types: dict[str, str]
    params: dict[str, int]  #: parameters owned directly by each module (not de-duplicated)
    subtree_params: dict[str, int]  #: parameters of each module with its children (not de-duplicated)
    shapes: dict[str, list[int] | None]
    direct_parameters: dict[str, dict[str, list[int]]]
    leaves: set[str]
    parameter_names: list[str]
    tied: list[list[str]]
    base_params: int


@dataclass
class Adaptation:
    """What PEFT did. Holds the live adapted model until ``measure`` has read it."""

    snapshot: Snapshot
    peft_model: Any  #: a PeftModel on meta, or None when PEFT refused the config
    #: the adapted model's modules by name (relative to the base model), read once
    after: dict[str, Any]
    final_config: Any  #: PEFT's config after its own rewrites (defaults, all-linear, MoE conversion)
    targets: list[TargetMatch]
    modules_to_save: list[SavedMatch]
    messages: list[PeftMessage]
    error: str | None = None  #: PEFT's message when nothing could be applied
    error_type: str | None = None
    #: pattern -> (kind of refusal, PEFT's message) for entries the audit ran without
    refused: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: exclude_modules entry -> the modules the targets match that it keeps out
    exclude_matches: dict[str, list[str]] = field(default_factory=dict)
    #: modules_to_save entry -> PEFT's message, for entries the audit ran without
    refused_saved: dict[str, str] = field(default_factory=dict)


def snapshot(model: nn.Module) -> Snapshot:
    """Record the module tree (names, types, parameter shapes, tied weights) before injection."""
    names, types, params, shapes, direct, leaves = [], {}, {}, {}, {}, set()
    for name, module in model.named_modules():
        names.append(name)
        types[name] = type(module).__name__
        own = dict(module.named_parameters(recurse=False))
        params[name] = sum(p.numel() for p in own.values())
        weight = own.get("weight")
        shapes[name] = list(weight.shape) if weight is not None else None
        direct[name] = {k: list(p.shape) for k, p in own.items()}
        if not any(True for _ in module.children()):
            leaves.add(name)
    by_tensor: dict[int, list[str]] = {}
    for pname, p in model.named_parameters(remove_duplicate=False):
        by_tensor.setdefault(id(p), []).append(pname)
    subtree = dict(params)
    for name in reversed(names):  # children come after their parent in named_modules()
        if name:
            parent = name.rpartition(".")[0]
            if parent in subtree:
                subtree[parent] += subtree[name]
    return Snapshot(
        names=names,
        all_names=[n for n, _ in model.named_modules(remove_duplicate=False)],
        types=types,
        params=params,
        subtree_params=subtree,
        shapes=shapes,
        direct_parameters=direct,
        leaves=leaves,
        parameter_names=[n for n, _ in model.named_parameters()],
        tied=[group for group in by_tensor.values() if len(group) > 1],
        base_params=sum(p.numel() for p in model.parameters()),
    )


def apply_lora(built: BuiltModel, spec: LoraSpec) -> Adaptation:
    """Run ``get_peft_model`` on a fresh meta model; retry without entries PEFT refuses."""
    from peft import get_peft_model
    from transformers.initialization import no_init_weights

    model = built.factory()
    snap = snapshot(model)
    config = copy.deepcopy(spec.config)
    refused: dict[str, tuple[str, str]] = {}
    refused_saved: dict[str, str] = {}
    messages: list[PeftMessage] = []
    error: BaseException | None = None
    peft_model = None
    for _attempt in range(len(spec.entries) + len(spec.modules_to_save) + 1):
        attempt_config = copy.deepcopy(config)
        with capture_messages("apply") as attempt_messages:
            try:
                # Meta tensors hold no values: random init of the LoRA weights is pure overhead
                # (a third of PEFT's time on a 400B model), so torch's init functions are no-ops here.
                with no_init_weights():
                    peft_model = get_peft_model(model, attempt_config, low_cpu_mem_usage=True)
                error = None
            except Exception as exc:  # noqa: BLE001 - PEFT's refusal is a finding, not a crash
                error, peft_model = exc, None
        messages = attempt_messages
        if error is None:
            break
        newly_saved = _refused_saved(error, config, model, snap)
        if newly_saved:
            refused_saved.update(newly_saved)
            config.modules_to_save = [m for m in config.modules_to_save if m not in newly_saved] or None
            model = built.factory()
            continue
        newly = _refused_entries(error, config, built.factory, snap)
        refused.update(newly)
        if not newly or not _drop_entries(config, newly):
            break
        model = built.factory()

    final = peft_model.peft_config[ADAPTER] if peft_model is not None else _prepared_config(config, built)
    after = dict(peft_model.get_base_model().named_modules()) if peft_model is not None else {}
    targets = _target_matches(spec.entries, final, peft_model, snap, refused, built)
    saved = _saved_matches(final, spec, snap, after, refused_saved)
    excluded = _exclude_matches(spec.config.exclude_modules, final, snap)
    return Adaptation(
        exclude_matches=excluded,
        snapshot=snap,
        peft_model=peft_model,
        after=after,
        final_config=final,
        targets=targets,
        modules_to_save=saved,
        messages=messages,
        error=None if error is None else peft_text(error),
        error_type=None if error is None else type(error).__name__,
        refused=refused,
        refused_saved=refused_saved,
    )


def peft_text(exc: BaseException, limit: int = 400) -> str:
    """PEFT's message on one line, cut short: some embed a module's repr or a C++ stack trace."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --------------------------------------------------------------------------- per-entry matching
def _single_entry_config(final: Any, target: Any) -> Any:
    probe = copy.copy(final)
    probe.target_modules = target
    probe.target_parameters = None
    return probe


def _matches(final: Any, target: Any, names: list[str], ignore_layers: bool = False) -> list[str]:
    """Module names PEFT's own matching selects for ``target`` under ``final``'s other settings."""
    from peft.tuners.tuners_utils import check_target_module_exists

    probe = _single_entry_config(final, target)
    if ignore_layers:
        probe.layers_to_transform = None
        probe.layers_pattern = None
    out = []
    for name in names:
        if not name:
            continue
        result = check_target_module_exists(probe, name)
        if result and type(result).__name__ != "_ExcludedModule":
            out.append(name)
    return out


def _target_matches(
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
    final_targets = final.target_modules
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
                match.modules = _matches(final, final_targets, snap.names)
            if entry.kind != "regex" and isinstance(final_targets, (set, list)):
                match.resolved = sorted(final_targets)
                if entry.kind == "all-linear" and final.target_parameters:
                    match.resolved += sorted(set(final.target_parameters) - set(user_params))
        elif entry.kind == "name":
            match.modules = _matches(final, [entry.pattern], snap.names)
            if final.modules_to_save:
                unsaved = copy.copy(final)
                unsaved.modules_to_save = None
                match.excluded_by_modules_to_save = sorted(
                    set(_matches(unsaved, [entry.pattern], snap.names)) - set(match.modules)
                )
            if final.layers_to_transform is not None:
                match.matched_without_layer_filter = len(
                    _matches(final, [entry.pattern], snap.names, ignore_layers=True)
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
    from peft.tuners.tuners_utils import _maybe_include_all_linear_layers

    if entry.kind == "all-linear":
        probe = copy.copy(final)
        probe.target_modules = entry.pattern
        resolved = _maybe_include_all_linear_layers(probe, built.factory()).target_modules
        return sorted(resolved)
    if entry.kind == "regex":
        return _matches(final, entry.pattern, snap.names)
    return []


def _param_matches(patterns: list[str], key: str) -> bool:
    # The rule PEFT's _inject_parameters applies to target_parameters, through its own helper:
    # check_target_module_exists with the parameter name as the "module" key.
    from peft.tuners.tuners_utils import check_target_module_exists

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


def moe_conversion_table(model_type: str) -> dict[str, str]:
    """PEFT's table of transformers-v4 expert names and the fused v5 parameter each became."""
    try:
        from peft.utils.transformers_weight_conversion import (
            _MODEL_TO_CONVERSION_PATTERN,
            _MOE_TARGET_MODULE_MAPPING,
        )
    except ImportError:  # an older/newer PEFT without the conversion
        return {}
    base = _MODEL_TO_CONVERSION_PATTERN.get(model_type)
    return dict(_MOE_TARGET_MODULE_MAPPING.get(base, {}) or {})


def _prepared_config(config: Any, built: BuiltModel) -> Any:
    """PEFT's default-target resolution, for reporting when get_peft_model itself failed."""
    from peft.tuners.lora import LoraModel

    final = copy.deepcopy(config)
    if final.target_modules is None:
        defaults = LoraModel.target_module_mapping.get(built.model_type)
        if defaults is not None:
            final.target_modules = defaults if isinstance(defaults, str) else set(defaults)
    return final


def _exclude_matches(exclude: Any, final: Any, snap: Snapshot) -> dict[str, list[str]]:
    """For each exclude_modules entry: the modules the targets would adapt that it keeps out."""
    if not exclude or final.target_modules is None:
        return {}
    entries = [exclude] if isinstance(exclude, str) else sorted(exclude)
    unexcluded = copy.copy(final)
    unexcluded.exclude_modules = None
    would_adapt = set(_matches(unexcluded, final.target_modules, snap.names))
    out = {}
    for entry in entries:
        probe = copy.copy(unexcluded)
        probe.exclude_modules = entry if isinstance(exclude, str) else [entry]
        out[entry] = sorted(would_adapt - set(_matches(probe, final.target_modules, snap.names)))
    return out


# --------------------------------------------------------------------------- modules_to_save
def _saved_matches(
    final: Any, spec: LoraSpec, snap: Snapshot, after: dict[str, Any], refused: dict[str, str]
) -> list[SavedMatch]:
    user = spec.modules_to_save
    entries = list(dict.fromkeys(list(user) + list(final.modules_to_save or [])))
    if not entries:
        return []
    copies = _copy_params(after)
    out = []
    for entry in entries:
        wrapped = probe_modules_to_save(snap.all_names, entry)
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
    from peft.utils.other import _set_trainable
    from torch import nn

    class _Recorder(nn.Module):
        def __init__(self, target: nn.Module, adapter_name: str, **kwargs: Any) -> None:
            super().__init__()

        def set_adapter(self, *args: Any, **kwargs: Any) -> None:
            pass

        def update(self, *args: Any, **kwargs: Any) -> None:
            pass

    root = nn.Module()
    for name in names:
        if not name:
            continue
        parent_name, _, leaf = name.rpartition(".")
        parent = root.get_submodule(parent_name) if parent_name else root
        if not hasattr(parent, leaf) or not isinstance(getattr(parent, leaf), nn.Module):
            parent.add_module(leaf, nn.Module())
    try:
        _set_trainable(root, ADAPTER, module_names=[entry], inference_mode=False, wrapper_cls=_Recorder,
                       activate_adapter=False)
    except (ValueError, AttributeError):
        return []
    return [n for n, m in root.named_modules() if isinstance(m, _Recorder)]


def _copy_params(after: dict[str, Any]) -> dict[str, int]:
    """Parameters of each full copy PEFT made for modules_to_save."""
    from peft.utils.other import ModulesToSaveWrapper

    out = {}
    for name, module in after.items():
        if isinstance(module, ModulesToSaveWrapper):
            out[name] = sum(p.numel() for p in module.modules_to_save[ADAPTER].parameters())
    return out


# --------------------------------------------------------------------------- refusals
_UNSUPPORTED = re.compile(r"Target module .* is not supported", re.S)
_DORA = re.compile(r"does not (support|work with) (DoRA|use_dora)", re.I)
_FUSED = re.compile(r"Cannot convert PEFT target\(s\) (?P<present>.+?) without also targeting (?P<missing>.+?) because")


def _refused_entries(
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
        for name in _first_of_each_type(_matches(config, [entry], snap.names), snap):
            problem = _creation_error(config, modules[name], name)
            if problem is not None:
                out[entry] = (kind, f"{name} ({snap.types[name]}): {problem}")
                break
    return out


_SAVED_ON_LORA = re.compile(r"modules_to_save cannot be applied to modules of type")


def _refused_saved(error: BaseException, config: Any, failed_model: nn.Module, snap: Snapshot) -> dict[str, str]:
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
    from peft.tuners.lora import LoraModel
    from peft.utils.integrations import init_empty_weights

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
        with capture_messages("probe"), init_empty_weights():
            LoraModel._create_new_module(probe_config, ADAPTER, copy.deepcopy(module), **kwargs)
    except Exception as exc:  # noqa: BLE001
        return peft_text(exc)
    return None


def _drop_entries(config: Any, refused: dict[str, tuple[str, str]]) -> bool:
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
