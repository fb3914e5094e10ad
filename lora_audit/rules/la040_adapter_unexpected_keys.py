"""A saved adapter holds tensors that PEFT does not create for its config on this base.

What it checks
--------------
Every tensor key in ``adapter_model.safetensors`` (read from the header alone) is looked up among
the keys PEFT's own ``get_peft_model_state_dict`` gives for the adapter's config on this base
(``base_model.model.<module>.lora_A.weight`` ...), and among the base model's own parameters
(embedding weights that ``save_embedding_layers`` stores next to the adapter). A key in neither
fires, grouped by module with block indices folded.

Why it matters
--------------
PEFT loads adapter weights with ``strict=False``: a tensor under a name the model does not have is
dropped without an error. An adapter whose keys were renamed (by a conversion script, another
trainer, an older format) loads "successfully" and does nothing.

Example
-------
::

    # on an adapter of your own (not bundled: the rule's tests build one)
    lora-audit Qwen/Qwen2.5-0.5B --adapter ./renamed-adapter
    # LA040 model.layers.(0-23).self_attn.query.lora_A.weight: 24 tensors match no parameter ...

Fix
---
Rename the keys to PEFT's naming (``base_model.model.<module name>.lora_A.weight``), or audit the
adapter against the base it was trained for (see LA044).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from lora_audit.naming import did_you_mean
from lora_audit.report import Report
from lora_audit.rules._adapter import compared, count, explained_by_layers, key_groups, short
from lora_audit.rules._base import Problem

CODE = "LA040"
NAME = "adapter-unexpected-keys"
SEVERITY = "error"
METHODS = "targets"


def check(report: Report, options: dict[str, Any]) -> Iterator[Problem]:
    adapter = compared(report)
    if adapter is None:
        return
    keys = [k for k in adapter.unexpected if not explained_by_layers(adapter, k)]
    expected = {short(k) for k in adapter.missing}
    groups = key_groups(keys)
    for subject, keys in groups:
        close = did_you_mean(short(keys[0]), expected, n=1)
        hint = (
            f"did you mean {close[0]}? Rename the keys to the names PEFT uses for this base"
            if close
            else "rename the keys to PEFT's naming (base_model.model.<module>.lora_A.weight), "
            "or audit the adapter against the base it was trained for"
        )
        yield Problem(
            subject=subject,
            message=(
                f"{count(keys)} in the adapter match no parameter PEFT creates for this config on "
                f"{report.model.class_name}: PEFT loads with strict=False and silently drops them"
            ),
            hint=hint,
        )
