"""Adapted modules that the quantizer leaves in full precision.

What it checks
--------------
On a quantized base, each adapted module is checked against the modules the quantizer skips: the
config's skip list (``llm_int8_skip_modules`` for bitsandbytes, ``modules_to_not_convert`` for AWQ,
FP8 and others, ``ignore`` for compressed-tensors) and, where transformers adds them, its defaults
(``get_keys_to_not_convert``: the output embedding, tied weights, the last parameter). Matching is
transformers' own ``should_convert_module`` (compressed-tensors: its ``match_name``). Fused-expert
parameters and non-Linear layers are not replaced by these quantizers either. The rule lists the
adapted modules that stay in full precision (info). It warns when an entry reached a module only
as a regex: ``"model.layers.1."`` also keeps ``model.layers.15`` out, because its ``.`` matches any
character (a published DeepSeek-V3.2 AWQ checkpoint lists exactly such entries).

Why it matters
--------------
These modules train as plain ``lora.Linear`` on a full-precision weight: their memory is the
unquantized size, and backend limits (LA030) do not apply to them. When a skip list was written to
keep a module out of training, or the target was meant to ride on the quantized layers, this shows
the mismatch.

Example
-------
::

    # config.json: "quantization_config": {"quant_method": "bitsandbytes", "load_in_8bit": true,
    #               "llm_int8_skip_modules": ["lm_head", "down_proj"], ...}
    lora-audit fixtures/quantized/qwen2.5-0.5b-bnb-int8-skip --targets q_proj,down_proj
    # LA032 model.layers.(0-23).mlp.down_proj: 24 adapted modules stay in full precision ...

Fix
---
Nothing, if intended. Otherwise target other modules, or edit the quantizer's skip list (escape
dots, ``model\\.layers\\.1\\.``, where an entry is meant literally).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from lora_audit.measure.quantization.classify import REGEX_WIDENED
from lora_audit.naming import fold
from lora_audit.report import Report
from lora_audit.rules._base import Problem, plural

CODE = "LA032"
NAME = "quantizer-skipped-target"
SEVERITY = "info"


def check(report: Report, options: dict[str, Any]) -> Iterator[Problem]:
    q = report.quantization
    if q is None or not q.unquantized_targets:
        return
    # One finding per skip field (listing its entries that matched), one per regex-widened entry, one per other reason.
    groups: dict[str, tuple[list[str], list[str]]] = {}
    fields = {q.skip_field or "skip list", "transformers default"}
    for item in q.unquantized_targets:
        reason = item.reason
        field, _, entry = reason.partition(": ")
        key = field if field in fields and REGEX_WIDENED not in reason else reason
        names, entries = groups.setdefault(key, ([], []))
        names.append(item.name)
        if key == field and entry not in entries:
            entries.append(entry)
    for key, (names, entries) in groups.items():
        reason = f"{key}: {', '.join(entries)}" if entries else key
        widened = REGEX_WIDENED in key
        yield Problem(
            subject=", ".join(fold(names)),
            message=(
                f"{plural(len(names), 'adapted module')} {'stays' if len(names) == 1 else 'stay'} in full precision "
                f"under {q.method} quantization ({reason}); {q.quantized_targets:,} adapted modules are quantized"
            ),
            hint=("escape the entry's dots or anchor it (transformers reads skip entries as regexes from the start "
                  "of the name), or list the modules by full name"
                  if widened
                  else "nothing to do if intended; otherwise target other modules or change the quantizer's skip list"),
            severity="warning" if widened else None,
        )
