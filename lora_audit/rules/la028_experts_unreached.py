"""An "every linear layer" config leaves the fused MoE experts of the model untrained.

What it checks
--------------
A config that asks for every linear layer (axolotl's ``lora_target_linear: true``, LLaMA-Factory's
``lora_target: all``, PEFT's ``all-linear``) on a mixture-of-experts model whose experts
transformers v5 stores as fused 3-D parameters (``mlp.experts.gate_up_proj``,
``mlp.experts.down_proj``), when not one of those expert parameters gets an adapter.

Why it matters
--------------
The experts hold most of an MoE model's weights. A framework that expands "every linear layer" into
the leaf names of ``nn.Linear`` modules finds none inside the fused experts, so only attention (and
dense layers) train: axolotl's own Mixtral example adapts 27,262,976 parameters of 46.7B, with no
expert adapted, where the same config on transformers v4 also trained ``w1``/``w2``/``w3`` of every
expert. Nothing in the training log says so.

Example
-------
::

    lora-audit fixtures/axolotl/mistral-mixtral-mixtral.yml
    # LA028 lora_target_linear: no expert of MixtralForCausalLM is adapted ...
    #   fix: add lora_target_parameters: [mlp.experts.gate_up_proj, mlp.experts.down_proj]

Fix
---
Name the fused expert parameters in ``target_parameters`` (axolotl: ``lora_target_parameters``,
which needs ``lora_dropout: 0``), or accept attention-only training knowingly (``--ignore LA028``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from lora_audit.report import Report
from lora_audit.rules._base import Problem, plural
from lora_audit.rules._facts import fused_parameter_suffixes

CODE = "LA028"
NAME = "experts-unreached"
SEVERITY = "warning"


def check(report: Report, options: dict[str, Any]) -> Iterator[Problem]:
    if not report.model.fused_expert_parameters or not report.applied:
        return
    source = report.lora_config_source
    all_linear = [t for t in report.targets if t.kind == "all-linear"]
    key = (source.all_linear_key if source is not None else None) or ("all-linear" if all_linear else None)
    if key is None:
        return
    if any(row.experts > 1 for row in report.adapted_modules):
        return
    suffixes = fused_parameter_suffixes(report)
    field_keys = source.field_keys if source is not None else {}
    param_key = field_keys.get("target_parameters", "target_parameters")
    dropout = "" if not report.lora_config.get("lora_dropout") else \
        " with lora_dropout: 0 (PEFT's ParamWrapper for fused experts takes no dropout)"
    yield Problem(
        subject=key,
        message=(
            f"adapted {plural(len(report.adapted_modules), 'module')} but no expert of "
            f"{report.model.class_name}: its experts are fused 3-D parameters ({', '.join(suffixes)}), which "
            f"Linear-module names cannot reach; {report.params.trainable:,} trainable of "
            f"{report.params.base:,}, all outside the experts"
        ),
        hint=f"to train the experts, add {param_key}: [{', '.join(suffixes)}]{dropout}",
    )
