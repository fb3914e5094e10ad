"""The framework asks for one quantization, the checkpoint is already quantized another way.

What it checks
--------------
A framework config can ask for quantization (``load_in_4bit``, ``adapter: qlora``,
``quantization_bit``) while the checkpoint's config.json already carries a
``quantization_config``. transformers (``AutoHfQuantizer.merge_quantization_configs``, read in
5.24) then uses the checkpoint's config. When the two are different methods (a bitsandbytes request
on a GPTQ or AWQ checkpoint), it raises ``ValueError: The model is quantized with GPTQConfig but you
are passing a BitsAndBytesConfig config``: an error. When they are the same method with other bits
(4-bit asked, 8-bit stored), the request is ignored: a warning.

Why it matters
--------------
The training run either stops at load time or trains a base quantized differently from what the
config says (memory, speed and which LoRA features work all follow the checkpoint).

Example
-------
::

    # as axolotl's adapter: qlora with load_in_4bit: true, on a GPTQ checkpoint
    lora-audit fixtures/quantized/qwen2.5-0.5b-gptq-int4 --targets q_proj,v_proj --load-in-4bit
    # LA031 quantization: --load-in-4bit asks for bitsandbytes 4-bit, but the checkpoint is
    # already quantized with gptq 4-bit ...

Fix
---
Drop the framework's quantization flags for a pre-quantized checkpoint (axolotl: ``adapter: lora``
with ``gptq: true``), or start from the full-precision base.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from lora_audit.report import Report
from lora_audit.rules._base import Problem

CODE = "LA031"
NAME = "quantization-conflict"
SEVERITY = "error"


def check(report: Report, options: dict[str, Any]) -> Iterator[Problem]:
    conflict = report.quantization.conflict if report.quantization is not None else None
    if conflict is None:
        return
    yield Problem(
        subject="quantization",
        message=conflict.message,
        hint=("remove the framework's quantization flags: the checkpoint is already quantized"
              if conflict.kind == "method"
              else "make the request match the checkpoint's quantization, or drop it"),
        severity="error" if conflict.kind == "method" else "warning",
    )
