"""A LoRA feature that PEFT cannot combine with the base model's quantization.

What it checks
--------------
When the base is quantized (config.json's ``quantization_config``, or a framework's
``load_in_4bit`` / ``adapter: qlora`` / ``quantization_bit``), the LoRA config is checked against
what this PEFT's LoRA layer for that backend accepts. The list comes from PEFT's own code
(``peft/tuners/lora/{bnb,gptq,awq,aqlm,eetq,hqq,torchao}.py`` and ``layer.py``, read in PEFT
0.21.2; see ``lora_audit/measure/quantization/backends.py``): DoRA on GPTQ, AWQ, AQLM and EETQ; ``lora_bias`` on HQQ
and torchao; VeLoRA on every quantized backend but torchao; PiSSA / CorDA / MiCA (and OLoRA outside
bitsandbytes) initialisation on any quantized weight; ``modules_to_save`` on a module that holds a
quantized layer of an integer-weight backend (bitsandbytes, GPTQ, AWQ, AQLM, EETQ, HQQ: torch
refuses gradients on integer tensors). An error means PEFT raises; a warning means
PEFT ignores the setting (``use_qalora`` outside GPTQ) or its documentation says not to combine them
(LoftQ on an already quantized model). Nothing is reported when every adapted module sits on a
layer the quantizer leaves in full precision.

Why it matters
--------------
On the meta device the audit's base is not quantized, so PEFT accepts the config here; on the
training machine ``get_peft_model`` raises inside the quantized layer's constructor, after the
quantized model has been loaded onto the GPU.

Example
-------
::

    # config.json of a GPTQ checkpoint: "quantization_config": {"quant_method": "gptq", "bits": 4, ...}
    lora-audit fixtures/quantized/qwen2.5-0.5b-gptq-int4 --targets q_proj,v_proj --dora
    # LA030 use_dora: PEFT 0.21.2 does not support use_dora=True on a base quantized with gptq (4-bit) ...

Fix
---
Drop the feature (``use_dora``, ``lora_bias``, the init method), or train on a base quantized with
a backend that supports it (bitsandbytes supports DoRA), or on the full-precision base.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from lora_audit.report import Report
from lora_audit.rules._base import Problem

CODE = "LA030"
NAME = "quantized-feature-unsupported"
SEVERITY = "error"


def check(report: Report, options: dict[str, Any]) -> Iterator[Problem]:
    q = report.quantization
    if q is None:
        return
    backend = f"{q.method} ({q.bits}-bit)" if q.bits else q.method
    for limit in q.unsupported:
        setting = f"{limit.feature}={limit.value!r}" if limit.value is not None else limit.feature
        verb = "does not support" if limit.severity == "error" else "ignores or advises against"
        scope = f" ({q.quantized_targets:,} adapted modules are quantized)"
        if limit.feature == "modules_to_save":
            scope = ""
        yield Problem(
            subject=limit.feature,
            message=f"PEFT {report.tool.peft} {verb} {setting} on a base quantized with {backend}{scope}: "
                    f"{limit.message}",
            hint=f"drop {limit.feature}, or train on a base that is not {q.method}-quantized",
            severity=limit.severity,
        )
