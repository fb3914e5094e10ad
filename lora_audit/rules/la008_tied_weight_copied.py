"""A modules_to_save copy or a LoRA target touches a tied weight.

What it checks
--------------
Weights the model ties (the output head sharing the input embedding, ``tie_word_embeddings``) are
read from the built model itself. The rule fires when ``modules_to_save`` copies a module that owns
a tied weight, or a target entry adapts one, unless ``ensure_weight_tying`` is set.

Why it matters
--------------
A ``modules_to_save`` copy of ``lm_head`` trains its own copy while ``embed_tokens`` stays frozen:
the pair is untied, the tied tensor's memory is spent twice, and the saved adapter carries a full
vocabulary-sized matrix. LoRA on a tied embedding changes the input side only, and merging it
writes the change into the shared tensor, so the output head changes too: the merged model is not
the one you trained. PEFT prints one generic warning for both cases.

Example
-------
::

    lora-audit naver-hyperclovax/HyperCLOVAX-SEED-Text-Instruct-0.5B --targets all-linear \\
        --modules-to-save lm_head
    # LA008 lm_head: lm_head.weight is tied to model.embed_tokens.weight; the copy unties them

Fix
---
Set ``ensure_weight_tying: true`` in the LoRA config (PEFT then wraps both tied modules and keeps one
shared trainable copy, or ties their LoRA adapters), or leave tied modules out of the adapter.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from lora_audit.report import Report
from lora_audit.rules._base import Problem
from lora_audit.rules._facts import adapted_names

CODE = "LA008"
NAME = "tied-weight-copied"
SEVERITY = "warning"
CLAIMS = (re.compile(r"Model has `tie_word_embeddings=True` and a tied layer is part of the adapter"),)


def _owner(param: str) -> str:
    return param.rsplit(".", 1)[0] if "." in param else ""


def check(report: Report, options: dict[str, Any]) -> Iterator[Problem]:
    if report.lora_config.get("ensure_weight_tying") or not report.model.tied_weights:
        return
    tied_to: dict[str, list[str]] = {}
    for group in report.model.tied_weights:
        for param in group:
            tied_to[_owner(param)] = [p for p in group if p != param]
    for saved in report.modules_to_save:
        if saved.dropped:
            continue
        for module in saved.modules:
            if module not in tied_to:
                continue
            others = ", ".join(tied_to[module])
            size = next((m.params for m in report.modules if m.name == module), 0)
            yield Problem(
                subject=module,
                message=(
                    f"{module}.weight is tied to {others}; modules_to_save copies {module} alone, so training "
                    f"unties them (the {size:,}-parameter copy learns, {others} stays frozen) and the adapter "
                    "stores a full copy"
                ),
                hint="set ensure_weight_tying=True: PEFT then wraps both tied modules with one shared trainable copy",
            )
    adapted = adapted_names(report)
    for module in sorted(adapted & set(tied_to)):
        others = ", ".join(tied_to[module])
        yield Problem(
            subject=module,
            message=(
                f"LoRA adapts {module}, whose weight is tied to {others}: the adapter changes one side only, "
                "and merging it writes into the shared tensor, changing the other side too"
            ),
            hint="set ensure_weight_tying=True (PEFT ties the adapters of both modules), or do not target it",
        )
