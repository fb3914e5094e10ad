"""A framework's every-linear expansion reaches towers, or whole blocks, through shared leaf names.

What it checks
--------------
axolotl's ``lora_target_linear`` (and any front-end that expands "every linear layer" into the
*leaf names* of the model's Linear modules) hands PEFT bare names, and PEFT matches a bare name
against every module whose name ends with it. Two consequences are reported:

- a name that is a digit (``0``, ``2``: the children of an ``nn.Sequential``, such as a VLM's
  projector ``merger.mlp.0``) also matches every module at that index: whole decoder and vision
  blocks (a **warning**; PEFT usually refuses the blocks, and the run fails);
- names that reach a vision / audio tower or a multimodal projector (``fc1``, ``qkv``, ``proj``), so
  the tower trains too (**info**: a choice to make knowingly).

Why it matters
--------------
"Every linear layer" reads like "the language model's projections". On a vision-language model it
also trains the vision tower, and the Sequential projector's indices turn into targets that match
entire blocks.

Example
-------
::

    lora-audit fixtures/lora/axolotl-qwen2-vl-linear.yml    # axolotl, lora_target_linear: true, on Qwen2-VL
    # LA029 0: the leaf name '0' (from model.visual.merger.mlp.0) matches model.visual.blocks.0, ...

Fix
---
Name the targets yourself (axolotl: ``lora_target_modules`` as a list, or a regex such as
``model.language_model.layers.[\\d]+.(mlp|self_attn).(up|down|gate|q|k|v|o)_proj``) instead of the
every-linear switch, or keep towers out with ``exclude_modules``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from lora_audit.naming import summarize
from lora_audit.report import Report
from lora_audit.rules._base import Problem, plural

CODE = "LA029"
NAME = "leaf-names-reach-beyond"
SEVERITY = "warning"
#: Path components that name a non-text tower or a multimodal projector.
TOWER_PARTS = ("visual", "vision_tower", "vision_model", "vision", "audio_tower", "audio", "multi_modal_projector",
               "mm_projector", "image_encoder")


def check(report: Report, options: dict[str, Any]) -> Iterator[Problem]:
    source = report.lora_config_source
    key = source.all_linear_key if source is not None else None
    if not key:
        return
    for target in report.targets:
        if target.kind == "name" and target.pattern.isdigit() and target.matched:
            blocks = [m for m in target.modules if m.split(".")[-1] == target.pattern]
            yield Problem(
                subject=target.pattern,
                message=(
                    f"{key} produced the leaf name {target.pattern!r} (a child of an nn.Sequential); as a target it "
                    f"matches every module named {target.pattern}: {summarize(blocks)}"
                ),
                hint=f"name the targets instead of {key} (a list or a regex), or exclude_modules",
            )
    towers: dict[str, set[str]] = {}
    for target in report.targets:
        if target.kind != "name" or target.pattern.isdigit():
            continue
        for module in target.modules:
            parts = module.split(".")
            hit = next((i for i, p in enumerate(parts) if p in TOWER_PARTS), None)
            if hit is not None:
                towers.setdefault(".".join(parts[: hit + 1]), set()).add(target.pattern)
    for tower, names in sorted(towers.items()):
        count = sum(1 for t in report.targets if t.pattern in names for m in t.modules if m.startswith(tower + "."))
        yield Problem(
            subject=tower,
            message=(
                f"{key}'s leaf names also reach {plural(count, 'module')} of {tower} ({summarize(sorted(names), 6)}): "
                "that tower trains too"
            ),
            hint=f"to train only the language model, name its targets instead of {key}, or exclude {tower}",
            severity="info",
        )
