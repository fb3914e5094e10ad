"""The caller's objects are safe: the API never mutates a LoraConfig or dict it is given."""

from __future__ import annotations

import copy

import pytest
from peft import LoraConfig

import lora_audit
from tests.conftest import TINY


# --------------------------------------------------------------------------- 4. the caller's objects are safe
def test_a_dict_lora_config_is_untouched():
    config = {
        "r": 8,
        "target_modules": ["q_proj", "v_proj"],
        "rank_pattern": {"q_proj": 4},
        "alpha_pattern": {"v_proj": 32},
        "modules_to_save": ["lm_head"],
        "layers_to_transform": [0, 1],
        "task_type": "CAUSAL_LM",
        "a_field_from_a_newer_peft": {"nested": [1]},
    }
    before = copy.deepcopy(config)
    report = lora_audit.audit(TINY / "qwen2", config)
    assert report.applied
    assert config == before
    assert report.unknown_config_fields == ["a_field_from_a_newer_peft"]


@pytest.mark.parametrize("task_type", [None, "SEQ_CLS"])
def test_a_lora_config_without_targets_is_untouched(task_type):
    """PEFT fills in default targets (and, for SEQ_CLS, modules_to_save) on the config it is given."""
    config = LoraConfig(r=4, target_modules=None, task_type=task_type)
    before = copy.deepcopy(config)
    report = lora_audit.audit(TINY / "qwen2", config)
    assert report.applied and report.params.trainable > 0
    assert config == before
    assert config.target_modules is None and config.modules_to_save is None
