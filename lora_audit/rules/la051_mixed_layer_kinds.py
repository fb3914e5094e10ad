"""One target entry adapts different kinds of layer: linear layers and convolutions.

What it checks
--------------
For each ``target_modules`` entry given by name or regex, the kinds of layer it adapted:
linear (``Linear``, GPT-2's ``Conv1D``), convolution (``Conv1d`` / ``Conv2d`` / ``Conv3d``) and
embedding. The rule fires when one entry adapts more than one kind, and names the modules of the
rarer kind.

Why it matters
--------------
PEFT matches by name, not by role, and short names are shared: in a timm ViT, ``proj`` is the
attention output projection of every block *and* the patch embedding, a 16x16 convolution over
the image; in Qwen2-VL the vision tower's ``patch_embed.proj`` is a ``Conv3d``. The odd one out is
adapted with the same rank and alpha, usually by accident, and a convolution's LoRA costs
``r·(c_in·kh·kw + c_out)``. Nothing in PEFT's output says that it happened.

Example
-------
::

    lora-audit fixtures/timm/vit_base_patch16_224.augreg2_in21k_ft_in1k --targets qkv,proj    # needs timm
    # LA051 proj: 'proj' adapts 12 Linear and 1 Conv2d (patch_embed.proj)

Fix
---
Name the layers you meant with a longer suffix (``attn.proj``), or keep the entry and leave the
others out with ``exclude_modules`` (``--exclude-modules patch_embed.proj``). If both kinds are
meant, suppress the finding with a reason.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

from lora_audit.report import Report
from lora_audit.rules._base import Problem

CODE = "LA051"
NAME = "mixed-layer-kinds"
SEVERITY = "warning"

_SHOWN = 3


def layer_kind(type_name: str) -> str:
    """linear | convolution | embedding | the type name itself, for a PEFT-adapted module's base type."""
    if type_name in ("Conv1d", "Conv2d", "Conv3d") or (type_name.startswith("Conv") and type_name[-2:-1].isdigit()):
        return "convolution"
    if "Embedding" in type_name:
        return "embedding"
    if "Linear" in type_name or type_name == "Conv1D":  # GPT-2's Conv1D is a transposed Linear
        return "linear"
    return type_name


def check(report: Report, options: dict[str, Any]) -> Iterator[Problem]:
    types = {m.name: m.type for m in report.modules}
    for target in report.targets:
        if target.kind not in ("name", "regex") or target.dropped or len(target.modules) < 2:
            continue
        kinds: dict[str, list[str]] = {}
        # Only what PEFT adapted: a match PEFT refused (or never reached, when it refused the whole
        # config) is not a layer that "gets the same rank".
        adapted = [name for name in target.modules if name in types]
        for name in adapted:
            kinds.setdefault(layer_kind(types.get(name, "")), []).append(name)
        if len(kinds) < 2:
            continue
        rare_kind, rare = min(kinds.items(), key=lambda item: (len(item[1]), item[0]))
        counts = Counter(types[name] for name in adapted)
        spread = " and ".join(f"{n} {t}" for t, n in sorted(counts.items(), key=lambda item: (-item[1], item[0])))
        shown = ", ".join(rare[:_SHOWN]) + (f", +{len(rare) - _SHOWN} more" if len(rare) > _SHOWN else "")
        yield Problem(
            subject=target.pattern,
            message=(
                f"{target.pattern!r} adapts {spread}: one name, different kinds of layer; the {rare_kind} "
                f"({shown}) gets the same rank and alpha as the rest, probably by accident"
            ),
            hint=(
                "name the layers you meant with a longer suffix, or leave the others out "
                f"(--exclude-modules {','.join(rare[:_SHOWN])})"
            ),
        )
