"""A saved adapter's embedding or output-head copy has another vocabulary size than the base.

What it checks
--------------
A full copy in the adapter (a ``modules_to_save`` entry such as ``embed_tokens`` / ``lm_head``,
or the embedding weights ``save_embedding_layers`` stores) or a LoRA embedding matrix
(``lora_embedding_A``) whose row count differs from the base's ``vocab_size``, with every other
dimension equal: the vocabulary was resized (``resize_token_embeddings``) before training.

Why it matters
--------------
This is the most reported adapter-loading failure (peft#1932, peft#2415, LlamaFactory#7997): the
adapter was trained after adding tokens, and the unmodified base has fewer rows, so loading fails
with a size mismatch, or the new tokens' rows are lost.

Example
-------
::

    # a tiny Qwen2 adapter saved after its vocabulary was resized from 256 to 320 tokens
    lora-audit fixtures/tiny/qwen2 --adapter fixtures/adapters/qwen2-tiny-resized
    # LA043 lm_head: 320 vocabulary rows in the adapter, 256 in the base

Fix
---
Resize the base first, then load: ``model.resize_token_embeddings(N)`` with N the adapter's row
count, before ``PeftModel.from_pretrained(model, adapter)``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from lora_audit.adapter.compare import module_of
from lora_audit.report import Report
from lora_audit.rules._adapter import compared
from lora_audit.rules._base import Problem

CODE = "LA043"
NAME = "adapter-vocab-resized"
SEVERITY = "error"
METHODS = "targets"


def check(report: Report, options: dict[str, Any]) -> Iterator[Problem]:
    adapter = compared(report)
    if adapter is None:
        return
    # (key, role, shape in the file, shape on this base): mismatched LoRA tensors, and base weights saved with them
    rows = [(r.key, r.role, r.file_shape, r.expected_shape) for r in adapter.mismatched if r.kind == "rows"]
    rows += [(b.key, "copy", b.file_shape, b.base_shape) for b in adapter.base_weights if b.kind == "rows"]

    by_module: dict[str, list[tuple[str, str, list[int], list[int]]]] = {}
    for row in rows:
        by_module.setdefault(module_of(row[0]), []).append(row)
    for module, members in by_module.items():
        _key, role, file_shape, base_shape = members[0]
        dim = 1 if role == "lora_embedding_A" else 0
        have, base = file_shape[dim], base_shape[dim]
        yield Problem(
            subject=module,
            message=(
                f"{have:,} vocabulary rows in the adapter, {base:,} in the base: the vocabulary was resized "
                "before training, and loading onto this base fails with a size mismatch"
            ),
            hint=f"call model.resize_token_embeddings({have}) on the base before PeftModel.from_pretrained",
        )
