"""MoE expert names that do not exist as modules in transformers v5.

What it checks
--------------
transformers v5 stores the experts of a mixture-of-experts block as fused 3-D parameters
(``mlp.experts.gate_up_proj``, ``mlp.experts.down_proj``), not as one ``nn.Linear`` per expert.
Old names (``w1``/``w2``/``w3``, ``experts.0.gate_proj``, ``gate_proj``) therefore behave
differently, and PEFT 0.21 rewrites some of them into ``target_parameters`` on its own. The rule
reports, as an **error**, a per-expert name that matches nothing or that PEFT refuses to convert
(``w1`` without ``w3``: both live in one fused tensor); as a **warning**, a converted name whose
ordinary ``nn.Linear`` namesakes (dense MLP layers, shared experts) PEFT then leaves unadapted; and,
as **info**, every converted entry and every fused parameter adapted through ``target_parameters``,
with the per-expert LoRA cost.

Why it matters
--------------
A Mixtral recipe written for transformers 4 (``target_modules=["w1", "w2", "w3"]``) now adapts
fused tensors with doubled rank for the fused gate/up pair; ``["w1"]`` alone fails; and on
DeepSeek-V3 ``["gate_proj", "up_proj", "down_proj"]`` adapts the routed experts but silently no
longer adapts the dense MLPs of the first layers or the shared experts. None of this is visible
in ``print_trainable_parameters()``.

Example
-------
::

    lora-audit mistralai/Mixtral-8x7B-v0.1 --targets q_proj,experts.0.w1
    # LA016 experts.0.w1: no per-expert modules in transformers v5; use
    #   --target-parameters mlp.experts.gate_up_proj,mlp.experts.down_proj

Fix
---
Target the fused parameters explicitly with ``target_parameters`` (the hint names them), and the
dense projections with ``target_modules``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from lora_audit.naming import summarize
from lora_audit.report import Report
from lora_audit.rules._base import Problem
from lora_audit.rules._facts import expert_like, fused_parameter_suffixes, group_subject, row_groups

CODE = "LA016"
NAME = "fused-experts"
SEVERITY = "error"


def check(report: Report, options: dict[str, Any]) -> Iterator[Problem]:
    suffixes = fused_parameter_suffixes(report)
    use = f"--target-parameters {','.join(suffixes)}" if suffixes else "target_parameters"
    for target in report.targets:
        if target.dropped_kind == "fused-experts":
            yield Problem(
                subject=target.pattern,
                message=(
                    f"{target.pattern!r} names one half of a fused expert tensor; PEFT cannot convert it alone "
                    f"(audited without it). PEFT: {target.dropped}"
                ),
                hint=f"target all fused parts together, or use {use}",
            )
        elif target.kind == "name" and not target.matched and expert_like(target.pattern, report):
            yield Problem(
                subject=target.pattern,
                message=(
                    f"{target.pattern!r} matches nothing: {report.model.class_name} has no per-expert modules in "
                    f"this transformers version; its experts are fused 3-D parameters ({', '.join(suffixes)})"
                ),
                hint=f"use {use}",
            )
        elif target.converted_to:
            if target.unadapted_after_conversion:
                left = summarize(target.unadapted_after_conversion)
                params = ", ".join(target.converted_to)
                if target.kind == "name":
                    message = (f"PEFT converted {target.pattern!r} to target_parameters {params} and dropped it from "
                               f"target_modules: the nn.Linear modules of that name ({left}) are NOT adapted")
                else:
                    message = (f"PEFT resolved {target.pattern!r} to names, moved the expert names to "
                               f"target_parameters ({params}), and so left {len(target.unadapted_after_conversion)} "
                               f"nn.Linear modules of those names unadapted ({left})")
                yield Problem(
                    subject=target.pattern,
                    message=message,
                    hint=(f"list the fused experts with {use} and the Linear modules by a longer name "
                          "(e.g. shared_experts.gate_proj, mlp.gate_proj)"),
                    severity="warning",
                )
            if target.kind == "name":
                what = f"the v4 expert name {target.pattern!r} to target_parameters {', '.join(target.converted_to)}"
                count = target.matched
            else:
                what = f"{target.pattern!r} into target_parameters {', '.join(target.converted_to)} as well"
                modules = {m.name for m in report.modules}
                count = sum(1 for m in target.modules if m not in modules)  # parameters, not modules
            yield Problem(
                subject=target.pattern,
                message=f"PEFT converted {what} ({count} fused or router parameters)",
                hint=f"write it as {use} to say what is adapted",
                severity="info",
            )
    for rows in row_groups([r for r in report.adapted_modules if r.experts > 1]).values():
        row = rows[0]
        per_expert = row.lora_params // row.experts
        yield Problem(
            subject=group_subject(rows),
            message=(
                f"{row.experts} experts x r={row.r}: {per_expert:,} LoRA parameters per expert "
                f"(dense {row.dense_params // row.experts:,} per expert), {row.lora_params:,} per tensor"
            ),
            hint="per-expert cost of target_parameters; no action needed",
            severity="info",
        )
