"""The base's quantization method cannot be fine-tuned, or only under a condition.

What it checks
--------------
transformers decides whether a quantized model can be trained: each quantizer's ``is_trainable``
(``transformers/quantizers/quantizer_*.py``, read in 5.24), enforced by the Trainer
(``trainer_utils.validate_quantization_for_training``). It is False for FBGEMM FP8, GGUF,
AutoRound, MXFP4, NVFP4, HIGGS, SpQR, VPTQ, Quark, Metal and Gemma quantization (an error), and
depends on something the audit cannot see for AWQ (gptqmodel >= 5.0.0), AQLM (aqlm >= 1.0.2),
torchao (8-bit quant types only) and compressed-tensors (not with ``use_optimized_inference``):
an info finding that names the condition.

Why it matters
--------------
The Trainer raises ``ValueError`` before the first step: "The model you are trying to fine-tune is
quantized with ... but that quantization method do not support training".

Example
-------
::

    # config.json: "quantization_config": {"quant_method": "fbgemm_fp8", ...}
    lora-audit fixtures/quantized/qwen2.5-0.5b-fbgemm-fp8 --targets q_proj,v_proj
    # LA033 quantization: transformers' FbgemmFp8HfQuantizer.is_trainable is False ...

Fix
---
Fine-tune the full-precision base (or a bitsandbytes / GPTQ quantization of it), or load the
checkpoint dequantized where the method allows (``dequantize=True``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from lora_audit.report import Report
from lora_audit.rules._base import Problem

CODE = "LA033"
NAME = "quantization-not-trainable"
SEVERITY = "error"


def check(report: Report, options: dict[str, Any]) -> Iterator[Problem]:
    q = report.quantization
    if q is None:
        return
    if q.trainable is False:
        yield Problem(
            subject="quantization",
            message=f"the base is {q.method}-quantized ({q.source}): {q.trainable_note}",
            hint="fine-tune the full-precision base, or load it dequantized where the method allows",
        )
    elif q.trainable is None and q.trainable_note:
        yield Problem(
            subject="quantization",
            message=f"the base is {q.method}-quantized ({q.source}): {q.trainable_note}",
            hint="check that condition on the training machine",
            severity="info",
        )
