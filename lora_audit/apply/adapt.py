"""Apply the LoRA config to the meta model with PEFT itself.

``get_peft_model(..., low_cpu_mem_usage=True)`` keeps the LoRA weights on meta, so even a 671B
model adapts in about a second. Which module each target entry matched is asked of PEFT's own
matching function (``check_target_module_exists``, one entry at a time) and of PEFT's own
``modules_to_save`` wrapper logic (run on a name-only skeleton), never re-implemented.

When PEFT refuses one entry (a layer type LoRA cannot wrap, DoRA on an unsupported layer, a
fused-expert name that cannot be converted), that entry is dropped and the config is applied
again, so the report still covers everything else; the dropped entry becomes a finding.
"""

from __future__ import annotations

import contextlib
import copy
from dataclasses import dataclass, field
from typing import Any

from lora_audit.apply.matching import ADAPTER, exclude_matches, saved_matches, target_matches
from lora_audit.apply.retry import drop_entries, find_refused_entries, find_refused_saved, peft_text
from lora_audit.apply.snapshot import Snapshot, snapshot
from lora_audit.capture import capture_messages
from lora_audit.config import methods
from lora_audit.config.lora_config import LoraSpec
from lora_audit.config.methods import LORA
from lora_audit.errors import AuditError
from lora_audit.guards import regex as regex_guard
from lora_audit.integrations.peft import default_target_modules, move_adapters_as_on_real_weights
from lora_audit.integrations.torch import meta_tensor_failure
from lora_audit.integrations.transformers import no_init_weights
from lora_audit.model.build import BuiltModel
from lora_audit.report import ApplyError, PeftMessage, SavedMatch, TargetMatch

__all__ = ["ADAPTER", "Adaptation", "Snapshot", "apply_lora", "peft_text"]


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
    #: PEFT's exception (class name and message) when nothing could be applied
    error: ApplyError | None = None
    #: pattern -> (kind of refusal, PEFT's message) for entries the audit ran without
    refused: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: exclude_modules entry -> the modules the targets match that it keeps out
    exclude_matches: dict[str, list[str]] = field(default_factory=dict)
    #: modules_to_save entry -> PEFT's message, for entries the audit ran without
    refused_saved: dict[str, str] = field(default_factory=dict)
    #: what the report should say about how PEFT's result was reproduced on meta
    notes: list[str] = field(default_factory=list)


def apply_lora(built: BuiltModel, spec: LoraSpec) -> Adaptation:
    """Run ``get_peft_model`` on a fresh meta model; retry without entries PEFT refuses."""
    from peft import get_peft_model

    model = built.factory()
    snap = snapshot(model)
    # PEFT runs user regexes with re against every module name; one that backtracks would hang it.
    regex_guard.check({name: getattr(spec.config, name, None) for name in regex_guard.FIELDS}, snap.names)
    config = copy.deepcopy(spec.config)
    refused: dict[str, tuple[str, str]] = {}
    refused_saved: dict[str, str] = {}
    messages: list[PeftMessage] = []
    error: BaseException | None = None
    peft_model = None
    notes: list[str] = []
    if spec.method != LORA:
        # Finding which entry PEFT refused asks LoRA's layer factory: other methods are applied whole.
        peft_model, error, messages = _apply_method(built, model, config, spec.method, notes)
    for _attempt in range(len(spec.entries) + len(spec.modules_to_save) + 1 if spec.method == LORA else 0):
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
        newly_saved = find_refused_saved(error, config, model, snap)
        if newly_saved:
            refused_saved.update(newly_saved)
            config.modules_to_save = [m for m in config.modules_to_save or [] if m not in newly_saved] or None
            model = built.factory()
            continue
        newly = find_refused_entries(error, config, built.factory, snap)
        refused.update(newly)
        if not newly or not drop_entries(config, newly):
            break
        model = built.factory()

    final = peft_model.peft_config[ADAPTER] if peft_model is not None else _prepared_config(config, built, spec.method)
    after = dict(peft_model.get_base_model().named_modules()) if peft_model is not None else {}
    targets = target_matches(spec.entries, final, peft_model, snap, refused, built)
    saved = saved_matches(final, spec, snap, after, refused_saved)
    excluded = exclude_matches(getattr(spec.config, "exclude_modules", None), final, snap)
    message = None if error is None else peft_text(error)
    return Adaptation(
        exclude_matches=excluded,
        snapshot=snap,
        peft_model=peft_model,
        after=after,
        final_config=final,
        targets=targets,
        modules_to_save=saved,
        messages=messages,
        error=ApplyError(type(error).__name__, message) if error is not None and message else None,
        refused=refused,
        refused_saved=refused_saved,
        notes=notes,
    )


def _apply_method(built: BuiltModel, model: Any, config: Any, method: str,
                  notes: list[str]) -> tuple[Any, BaseException | None, list]:
    """``get_peft_model`` for a method other than LoRA: the PeftModel, or PEFT's exception, and PEFT's messages.

    First with the meta device as torch's default, so every tensor PEFT creates is on meta and each
    layer's own init runs as written: PEFT 0.21.2's ``low_cpu_mem_usage`` path leaves AdaLoRA's
    ``ranknum`` trainable, which the real run does not. A method whose init computes on values
    (BOFT's ``.item()``, UniLoRA's ``bincount``) cannot run there and gets ``low_cpu_mem_usage``,
    as LoRA does; a test compares both paths against the materialised model for every method.
    """
    import torch
    from peft import get_peft_model

    error: BaseException | None = None
    for low_cpu_mem_usage in (False, True):
        attempt = model if not low_cpu_mem_usage else built.factory()
        # Not no_init_weights(): it makes torch's initialisers return None, and VeRA chains on their result.
        device = torch.device("meta") if not low_cpu_mem_usage else contextlib.nullcontext()
        with capture_messages("apply") as messages:
            try:
                with device:
                    peft_model = get_peft_model(attempt, copy.deepcopy(config), low_cpu_mem_usage=low_cpu_mem_usage)
                    rewrapped = move_adapters_as_on_real_weights(peft_model, ADAPTER)
                if rewrapped:
                    notes.append(
                        f"{rewrapped:,} frozen {methods.label(method)} parameters (AdaLoRA's ranknum: one per adapted "
                        "module) count as trainable: PEFT 0.21.2 re-wraps them as trainable when it casts them to a "
                        "base of another dtype (bf16, fp16), as it does on real weights")
                return peft_model, None, messages
            except ImportError as exc:  # AdaMSS needs scikit-learn, and the like
                raise AuditError(
                    "missing-dependency",
                    f"PEFT's {methods.label(method)} needs a package that is not installed: "
                    f"{' '.join(str(exc).split())[:200]}",
                    "install the package PEFT names (pip install ...)",
                ) from None
            except Exception as exc:  # noqa: BLE001 - PEFT's refusal is a finding, not a crash
                error = exc
        if not meta_tensor_failure(error):
            return None, error, messages
    assert error is not None  # both attempts failed on meta
    raise AuditError(
        "method-needs-weights",
        f"PEFT's {methods.label(method)} initialises its adapter from the values of the base weights "
        f"({peft_text(error)[:160]}), and lora-audit builds the model without weights",
        "audit the same targets with LoRA (the matching is the same), or count on a materialised small model",
    )


def _prepared_config(config: Any, built: BuiltModel, method: str = LORA) -> Any:
    """PEFT's default-target resolution, for reporting when get_peft_model itself failed."""
    final = copy.deepcopy(config)
    if getattr(final, "target_modules", "") is None:
        defaults = default_target_modules(built.model_type, method)
        if defaults is not None:
            final.target_modules = defaults if isinstance(defaults, str) else set(defaults)
    return final
