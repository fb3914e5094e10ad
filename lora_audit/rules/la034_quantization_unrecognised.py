"""A quantization method lora-audit does not know.

What it checks
--------------
config.json's ``quantization_config`` (or a framework request) names a method that is not in
lora-audit's table of PEFT backends (``lora_audit/measure/quantization/backends.py``: bitsandbytes 4/8-bit, GPTQ,
AWQ, AQLM, EETQ, HQQ, torchao, fine-grained FP8, compressed-tensors), nor among the methods
transformers cannot train (LA033). The method is still reported; which LoRA features PEFT supports
on it is not checked.

Why it matters
--------------
Never a silently wrong answer: without this finding, a report with no LA030 would read as "every
feature in this config works on this backend", which nobody checked.

Example
-------
::

    # config.json: "quantization_config": {"quant_method": "quanto", "weights": "int8"}
    lora-audit fixtures/quantized/qwen2.5-0.5b-quanto-int8 --targets q_proj,v_proj
    # LA034 quantization: lora-audit does not know which LoRA features PEFT supports on quanto ...

Fix
---
Check PEFT's support for this backend in its documentation (``peft/tuners/lora/`` has one module
per supported backend), or train on a supported quantization.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from lora_audit.report import Report
from lora_audit.rules._base import Problem

CODE = "LA034"
NAME = "quantization-unrecognised"
SEVERITY = "warning"


def check(report: Report, options: dict[str, Any]) -> Iterator[Problem]:
    q = report.quantization
    if q is None or q.known or q.trainable is False:
        return
    note = f" ({q.note})" if q.note else ""
    yield Problem(
        subject="quantization",
        message=(
            f"the base is quantized with {q.method!r} ({q.source}){note}: lora-audit does not know which LoRA "
            f"features PEFT {report.tool.peft} supports on it, so none were checked; counts are logical (from "
            "shapes)"
        ),
        hint="check PEFT's documentation for this backend, or train on a supported quantization",
    )
