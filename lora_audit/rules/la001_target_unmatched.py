"""A target_modules entry (or the regex) matches no module.

What it checks
--------------
Each ``target_modules`` entry, the ``target_modules`` regex, and each ``target_parameters``
entry is matched with PEFT's own matching against the model's real module names. An entry that
matches nothing fires, with close spellings from the model's names and the name the same layer
has in this model's family.

Why it matters
--------------
PEFT raises only when *no* entry matches. When one entry matches and another does not, PEFT says
nothing, and the run trains fewer layers than the config says. The usual cause is a config copied
from a tutorial for another architecture: GPT-2's ``c_attn``/``c_proj`` on a Llama-style model,
``q_proj`` on Phi-3 (fused ``qkv_proj``), Falcon or GPT-NeoX (``query_key_value``), or T5 (``q``).

Example
-------
::

    lora-audit Qwen/Qwen2.5-0.5B --targets c_proj,c_attn,q_proj,v_proj,o_proj,k_proj
    # LA001 c_proj: matches no module (Qwen2 has q_proj, k_proj, v_proj, o_proj)

Fix
---
Remove the entry, or replace it with the suggested name (``c_attn`` -> ``q_proj,k_proj,v_proj``,
``c_proj`` -> ``o_proj``). ``lora-audit MODEL --tree`` lists every module name.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from lora_audit.report import Report
from lora_audit.rules._base import Problem
from lora_audit.rules._facts import expert_like
from lora_audit.rules._suggest import suggest_targets
from lora_audit.rules.la050_text_encoder_target import text_encoder_entry

CODE = "LA001"
NAME = "target-unmatched"
SEVERITY = "error"
METHODS = "targets"
CLAIMS = (
    re.compile(r"target_modules=.* were set but no module was matched"),
    re.compile(r"target_parameters=.* were set but no parameter was matched"),
)


def check(report: Report, options: dict[str, Any]) -> Iterator[Problem]:
    for target in report.targets:
        if target.kind not in ("name", "regex", "parameter") or target.matched or target.dropped:
            continue
        if target.kind == "name" and target.matched_without_layer_filter:
            continue  # it matches, but only outside layers_to_transform: LA011's case
        if target.excluded_by_modules_to_save or target.unadapted_after_conversion:
            continue  # it matches, but PEFT routes the match elsewhere: LA015's / LA016's case
        if target.kind == "name" and expert_like(target.pattern, report):
            continue  # a per-expert name on a fused-experts model: LA016 says what to use instead
        if target.kind == "name" and text_encoder_entry(target.pattern, report):
            continue  # a text-encoder name on a diffusion denoiser: LA050 says so
        what = {"name": "target_modules entry", "regex": "target_modules regex", "parameter": "target_parameters entry"}
        suggestions = suggest_targets(target.pattern, report) if target.kind != "regex" else []
        others = [t for t in report.targets if t.matched and t is not target]
        message = f"{what[target.kind]} {target.pattern!r} matches no module in {report.model.class_name}"
        if target.kind == "parameter":
            message = f"{what[target.kind]} {target.pattern!r} matches no parameter in {report.model.class_name}"
        if others:
            message += "; PEFT stays silent because other entries match"
        if suggestions:
            hint = f"did you mean {', '.join(suggestions[:5])}? Otherwise remove {target.pattern!r}"
        elif target.kind == "regex":
            hint = "PEFT full-matches the regex against whole module names (e.g. .*\\.(q_proj|v_proj)); see --tree"
        else:
            hint = f"remove {target.pattern!r}, or use a name from `lora-audit MODEL --tree`"
        yield Problem(subject=target.pattern, message=message, hint=hint)
