"""Which adapted modules a quantizer leaves in full precision, and which stay quantized.

Reproduced from transformers 5.24: ``quantizers/base.py`` ``get_modules_to_not_convert`` (the
config's skip list, ``llm_int8_skip_modules`` for bitsandbytes, ``modules_to_not_convert`` for the
others, or, when it gives none (AWQ: always), ``get_keys_to_not_convert``: tied weights, the last
parameter, the output embedding), plus the model class's ``_keep_in_fp32_modules``; matched by
``quantizers/quantizers_utils.py`` ``should_convert_module`` (a regex from the start of the name up to
a module boundary, or a suffix: ``"model.layers.1."`` also matches ``model.layers.15``). GPTQ
checkpoints quantize the Linear layers of the decoder blocks (``block_name_to_quantize``,
``modules_in_block_to_quantize``). bitsandbytes replaces exact ``nn.Linear`` and ``Conv1D`` layers
(``integrations/bitsandbytes.py``); the other quantizers replace Linear layers. compressed-tensors
``utils/match.py`` ``match_name`` for its ``ignore`` list: ``re:`` entries are ``re.match`` regexes,
other entries match a module name exactly or a class name. :func:`classify_targets` imports
transformers' own matcher when it runs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from lora_audit.integrations.transformers import keys_to_not_convert, should_convert_module
from lora_audit.measure.quantization.backends import BACKENDS, INTEGER_STORAGE, SAVED_LIMIT
from lora_audit.measure.quantization.describe import method_key
from lora_audit.report import AdaptedModule, QuantizationFacts, UnquantizedTarget, UnsupportedFeature

#: Marks a skip entry that transformers matched as a regex where its literal text is not in the name
#: ("model.layers.1." keeps model.layers.15 out: its "." matches any character).
REGEX_WIDENED = "(matched as a regex: not literally in the name)"


def classify_targets(
    quantization: QuantizationFacts,
    rows: Sequence[AdaptedModule],
    default_skips: Sequence[str],
    keep_in_fp32: Sequence[str] = (),
    saved: Sequence[str] = (),
    types: Mapping[str, str] | None = None,
) -> QuantizationFacts:
    """The quantization facts completed: which adapted modules sit on quantized layers, which the quantizer spares.

    ``quantization`` is what :func:`~lora_audit.measure.quantization.describe.describe` returned (it
    is not changed: a completed copy is returned). ``rows`` are the report's AdaptedModule records. A
    module is quantized when its base layer is one of the types the quantizer replaces and no skip
    entry matches it (transformers' own ``should_convert_module``; compressed-tensors' ``match_name``
    for its ``ignore`` list). GPTQ checkpoints quantize the decoder blocks only
    (``block_name_to_quantize``, else every numbered block), and within them
    ``modules_in_block_to_quantize`` when given. Each module left alone gets the reason. Feature
    limits are kept only when some adapted module is quantized.

    ``saved`` are the modules ``modules_to_save`` wraps and ``types`` the base model's module types:
    on a backend with integer weights, a saved module holding a quantized layer cannot train.
    """
    method = quantization.method
    key = method_key(method, quantization.bits)
    backend = BACKENDS.get(key)
    quant_types = backend.quantized_types if backend else ("Linear",)
    own_rules = method in ("compressed-tensors", "gptq")
    # transformers adds its defaults when the config gives no list (AWQ always adds them).
    uses_defaults = not own_rules and (not quantization.skip_field or method == "awq")
    defaults = sorted(default_skips) if uses_defaults else []
    skips = [(entry, quantization.skip_field or "skip list") for entry in quantization.skip_modules]
    skips += [(entry, "transformers default") for entry in defaults]
    if not own_rules:
        skips += [(entry, "keep_in_fp32_modules") for entry in keep_in_fp32]

    def why_unquantized(name: str, base_type: str, experts: int = 1) -> str | None:
        if experts > 1:
            return "fused expert parameter: the quantizer replaces Linear layers"
        if base_type not in quant_types:
            return f"{base_type} is not a layer type the quantizer replaces"
        if method == "gptq":
            outside = _outside_gptq_blocks(name, quantization.details)
            if outside:
                return outside
        hit = next(((entry, where) for entry, where in skips if _skipped(method, name, base_type, entry)), None)
        if hit is None:
            return None
        reason = f"{hit[1]}: {hit[0]}"
        if method != "compressed-tensors" and hit[0] not in name + ".":
            reason += f" {REGEX_WIDENED}"
        return reason

    quantized = 0
    unquantized: list[UnquantizedTarget] = []
    for row in rows:
        reason = why_unquantized(row.name, row.base_type, row.experts)
        if reason is None:
            quantized += 1
        else:
            unquantized.append(UnquantizedTarget(name=row.name, reason=reason))
    unsupported = list(quantization.unsupported) if quantized else []
    if key in INTEGER_STORAGE and saved and types:
        stuck = [
            name for name in saved
            if any(why_unquantized(member, types[member]) is None
                   for member in types if member == name or member.startswith(name + "."))
        ]
        if stuck:
            unsupported.append(UnsupportedFeature(feature="modules_to_save", value=", ".join(stuck), severity="error",
                                                  message=SAVED_LIMIT))
    return replace(quantization, default_skips=defaults, quantized_targets=quantized,
                   unquantized_targets=unquantized, unsupported=unsupported)


def _outside_gptq_blocks(name: str, details: dict[str, Any]) -> str | None:
    """Why GPTQ left ``name`` unquantized, or None: it quantizes Linear layers inside the decoder blocks."""
    block = details.get("block_name_to_quantize")
    if isinstance(block, str) and block:
        match = re.match(rf"{re.escape(block)}\.\d+\.", name)
    else:
        match = re.match(r".*?\.\d+\.", name)  # the first numbered block: model.layers.7.
    if match is None:
        return f"outside the decoder blocks GPTQ quantizes{f' ({block})' if isinstance(block, str) else ''}"
    inside = details.get("modules_in_block_to_quantize")
    if isinstance(inside, list) and inside:
        wanted = {str(m) for group in inside for m in (group if isinstance(group, list) else [group])}
        if name[match.end():] not in wanted:
            return "not in modules_in_block_to_quantize"
    return None


def _skipped(method: str, name: str, base_type: str, entry: str) -> bool:
    if method == "compressed-tensors":
        if entry.startswith("re:"):
            try:
                return re.match(entry[3:], name) is not None
            except re.error:
                return False
        return entry in (name, base_type)
    try:
        return not should_convert_module(name, [entry])
    except re.error:  # not a valid regex: transformers would raise at load time; compare it as a plain name
        return name == entry or name.endswith(entry)


def default_skips(model: Any) -> list[str]:
    """transformers' ``get_keys_to_not_convert``: modules its quantizers keep in full precision by default."""
    try:
        return sorted(keys_to_not_convert(model))
    except Exception:  # noqa: BLE001 - not a PreTrainedModel (a plain nn.Module): no defaults
        return []


