"""The rule registry: one module per rule, documented in its docstring.

Adding a rule is one file in this package and one line in ``_MODULE_NAMES``.
"""

from __future__ import annotations

import importlib

from lora_audit.errors import AuditError
from lora_audit.rules._base import Problem, Rule

#: One module per rule, in code order. Adding a rule is one file in this package and one name here.
_MODULE_NAMES = (
    "la001_target_unmatched",
    "la002_nothing_adapted",
    "la003_modules_to_save_unmatched",
    "la004_unsupported_layer",
    "la005_frozen_head",
    "la006_no_savings",
    "la007_rank_exceeds_dim",
    "la008_tied_weight_copied",
    "la009_modules_to_save_dominates",
    "la010_fan_in_fan_out",
    "la011_layers_out_of_range",
    "la012_pattern_key_unmatched",
    "la013_exclude_unmatched",
    "la014_bias_trains_untargeted",
    "la015_adapted_and_saved",
    "la016_fused_experts",
    "la017_router_adapted",
    "la018_scaling",
    "la019_default_targets",
    "la020_task_type_mismatch",
    "la021_dora_unsupported",
    "la022_partial_coverage",
    "la023_low_block_coverage",
    "la024_peft_warning",
    "la025_unknown_config_field",
    "la026_unknown_framework_key",
    "la027_saved_for_inference",
    "la028_experts_unreached",
    "la029_leaf_names_reach_beyond",
    "la030_quantized_feature_unsupported",
    "la031_quantization_conflict",
    "la032_quantizer_skipped_target",
    "la033_quantization_not_trainable",
    "la034_quantization_unrecognised",
    "la040_adapter_unexpected_keys",
    "la041_adapter_missing_keys",
    "la042_adapter_shape_mismatch",
    "la043_adapter_vocab_resized",
    "la044_adapter_wrong_base",
    "la045_adapter_base_name",
    "la046_adapter_truncated",
    "la047_adapter_pickle",
    "la048_adapter_text_encoder_not_audited",
    "la050_text_encoder_target",
    "la051_mixed_layer_kinds",
    "la060_memory_does_not_fit",
)
_MODULES = tuple(importlib.import_module(f".{name}", __name__) for name in _MODULE_NAMES)

RULES: list[Rule] = sorted((Rule.from_module(m) for m in _MODULES), key=lambda r: r.code)
BY_CODE = {r.code: r for r in RULES}
BY_NAME = {r.name: r for r in RULES}


def resolve_code(key: str, where: str = "") -> str:
    """``LA003`` or ``modules-to-save-unmatched`` -> ``LA003``."""
    key = key.strip()
    if key.upper() in BY_CODE:
        return key.upper()
    if key.lower() in BY_NAME:
        return BY_NAME[key.lower()].code
    place = f" in {where}" if where else ""
    raise AuditError(
        "unknown-rule",
        f"{key!r}{place} is not a rule code or name",
        "`lora-audit rules` lists them (codes LA001..., or names such as target-unmatched)",
    )


__all__ = ["RULES", "BY_CODE", "Problem", "Rule", "resolve_code"]
