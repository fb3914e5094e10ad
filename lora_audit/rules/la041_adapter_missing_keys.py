"""A saved adapter lacks tensors that PEFT creates for its config on this base.

What it checks
--------------
Each key PEFT's ``get_peft_model_state_dict`` gives for the adapter's config on this base (LoRA
A/B, DoRA magnitudes, ``trainable_token_indices`` deltas, ``modules_to_save`` copies) is looked up
in the adapter file's header. A key the file does not hold fires, grouped by module.

Why it matters
--------------
A missing LoRA B leaves that module at its initialisation (B = 0: the adapter does nothing there);
a missing ``modules_to_save`` head (``score``, ``classifier``, ``lm_head``) leaves the freshly
initialised head of the base class in place: predictions are random, and loading says nothing.

Example
-------
::

    # on an adapter of your own (not bundled: the rule's tests build one)
    lora-audit Qwen/Qwen2.5-0.5B --task-type SEQ_CLS --adapter ./cls-adapter-without-head
    # LA041 score.weight: the modules_to_save copy is not in the file ...

Fix
---
Save the adapter again from the trained model (``save_pretrained`` writes every key), or fix the
adapter_config.json if it names modules the training did not use.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from lora_audit.adapter.compare import role_of
from lora_audit.report import Report
from lora_audit.rules._adapter import compared, count, explained_by_layers, key_groups, short
from lora_audit.rules._base import Problem

CODE = "LA041"
NAME = "adapter-missing-keys"
SEVERITY = "error"
METHODS = "targets"


def check(report: Report, options: dict[str, Any]) -> Iterator[Problem]:
    adapter = compared(report)
    if adapter is None:
        return

    missing = [k for k in adapter.missing if not explained_by_layers(adapter, k)]
    for subject, keys in key_groups(missing):
        module, role = role_of(keys[0])
        name = short(module).rsplit(".", 1)[-1]
        if role == "copy":
            message = (
                f"the modules_to_save copy of {module} ({count(keys)}) is not in the adapter: the base's "
                "own, freshly initialised or untrained weights stay in place when it loads"
            )
            hint = (f"save the adapter again with save_pretrained from the trained model, or remove {name!r} from "
                    "modules_to_save in adapter_config.json if training never used it")
        else:
            hint = (f"save the adapter again with save_pretrained from the trained model, or remove {name!r} from "
                    "target_modules in adapter_config.json if training never adapted it")
            message = (
                f"{count(keys)} that PEFT creates for this config ({role}) are not in the adapter: "
                "those modules keep their initial values and the adapter does nothing there"
            )
        yield Problem(subject=subject, message=message, hint=hint)
