"""A saved adapter's tensor has another shape than PEFT creates: rank, or the module's sizes.

What it checks
--------------
For every key both the adapter file and PEFT have, the shapes are compared: LoRA A is
``[r, in_features]``, LoRA B ``[out_features, r]`` (``lora_embedding_A`` ``[r, rows]``), a DoRA
magnitude ``[out_features]``, a ``modules_to_save`` copy the base module's own shape. ``r`` is the
rank PEFT gives that module (``r``, or its ``rank_pattern`` entry). Vocabulary-size differences
have their own rule (LA043).

Why it matters
--------------
``PeftModel.from_pretrained`` stops with a size-mismatch traceback after downloading everything,
or, with ``ignore_mismatched_sizes=True``, silently leaves those modules untrained. A rank in the
file that differs from the config means adapter_config.json does not describe these weights
(edited by hand, or ``rank_pattern`` lost on the way).

Example
-------
::

    # on an adapter of your own (not bundled: the rule's tests build one)
    lora-audit Qwen/Qwen2.5-0.5B --adapter ./adapter
    # LA042 model.layers.(0-23).self_attn.q_proj.lora_A.weight: rank 16 in the file, PEFT gives r=8

Fix
---
For a rank: set ``r`` (or ``rank_pattern`` for these modules) in adapter_config.json to the rank
the weights have. For the module sizes: the adapter belongs to another base (LA044).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from lora_audit.report import Report
from lora_audit.rules._adapter import compared, explained_by_hidden, row_groups, shape
from lora_audit.rules._base import Problem

CODE = "LA042"
NAME = "adapter-shape-mismatch"
SEVERITY = "error"
METHODS = "targets"


def check(report: Report, options: dict[str, Any]) -> Iterator[Problem]:
    adapter = compared(report)
    if adapter is None:
        return
    rows = [r for r in adapter.mismatched if r.kind != "rows" and not explained_by_hidden(adapter, r)]
    for subject, members in row_groups(rows):
        row = members[0]
        f, e = row.file_shape, row.expected_shape
        n = f"{len(members)} tensors" if len(members) > 1 else "the tensor"
        if row.kind == "rank":
            dim = 0 if row.role in ("lora_A", "lora_embedding_A") else 1
            message = (
                f"rank {f[dim]:,} in the file, PEFT gives r={e[dim]:,} for this module "
                f"({n}: {shape(f)} in the file, {shape(e)} expected)"
            )
            hint = (
                f"set r (or a rank_pattern entry for this module) to {f[dim]} in adapter_config.json, "
                "the rank these weights were trained with"
            )
        else:
            what = {"in_features": "in_features differ", "out_features": "out_features differ"}.get(
                row.kind, "shapes differ")
            message = (
                f"{what}: {shape(f)} in the file, {shape(e)} on {report.model.class_name} ({n}); "
                "loading stops with a size-mismatch error"
            )
            hint = "the adapter was trained on another base (see LA044): audit it against that base"
            if report.method.peft_type != "LORA" and row.kind == "shape":
                # another method's tensors: which dimension is its rank, block size... is the method's own layout
                hint = (f"the file was saved with other {report.method.label} settings (r, block size...) than "
                        "adapter_config.json says, or on another base: compare them with the shapes above")
        yield Problem(subject=subject, message=message, hint=hint)
