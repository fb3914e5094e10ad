"""Meta-device accounting equals PEFT on a materialised model (real CPU weights, small configs).

Each case builds the tiny model twice: once with real weights, adapted by plain
``get_peft_model`` (PEFT allocates and initialises real LoRA weights), and once through
lora-audit (config.json -> meta device). Every count lora-audit reports must equal PEFT's.
"""

from __future__ import annotations

import copy
import re

import pytest
import torch
from peft import LoraConfig, get_peft_model
from transformers import AutoConfig, AutoModelForCausalLM, AutoModelForSequenceClassification

import lora_audit
from tests.conftest import TINY

CASES = [
    ("qwen2", {"target_modules": ["q_proj", "v_proj"]}),
    ("qwen2", {"target_modules": "all-linear", "use_dora": True, "r": 4}),
    ("qwen2", {"target_modules": ["q_proj", "k_proj", "v_proj", "o_proj"], "bias": "all"}),
    ("qwen2", {"target_modules": ["q_proj", "v_proj", "down_proj"], "rank_pattern": {"down_proj": 16},
               "alpha_pattern": {"q_proj": 32}}),
    ("qwen2", {"target_modules": ["q_proj", "v_proj"], "modules_to_save": ["lm_head", "embed_tokens"]}),
    ("qwen2", {"target_modules": ["q_proj", "embed_tokens"], "layers_to_transform": [1]}),
    ("qwen2", {"target_modules": ["q_proj"], "trainable_token_indices": [0, 1, 2]}),
    ("gpt2", {"target_modules": ["c_attn", "c_proj"], "fan_in_fan_out": True, "bias": "lora_only"}),
    ("bert-cls", {"target_modules": ["query", "value"], "task_type": "SEQ_CLS"}),
    ("bert-cls", {"target_modules": ["query", "value", "dense"], "use_rslora": True, "use_dora": True}),
    ("mixtral", {"target_modules": ["q_proj", "v_proj"], "target_parameters": ["mlp.experts.gate_up_proj"]}),
    ("mixtral", {"target_modules": "all-linear"}),
]


def _materialised(name: str, lora: dict):
    config = AutoConfig.from_pretrained(TINY / name)
    torch.manual_seed(0)
    head = AutoModelForSequenceClassification if name.endswith("-cls") else AutoModelForCausalLM
    model = head.from_config(config)  # real CPU weights
    base = sum(p.numel() for p in model.parameters())
    peft_model = get_peft_model(model, LoraConfig(**copy.deepcopy(lora)))
    trainable, total = peft_model.get_nb_trainable_parameters()
    lora_per_module = {}
    for module_name, module in peft_model.get_base_model().named_modules():
        params = [
            p.numel() for n, p in module.named_parameters(recurse=True)
            if re.match(r"(lora_A|lora_B|lora_embedding_A|lora_embedding_B)\.default", n)
        ]
        if params:
            lora_per_module[module_name] = sum(params)
    return base, trainable, total, lora_per_module, peft_model


@pytest.mark.parametrize("name, lora", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_meta_counts_equal_peft_on_real_weights(name, lora):
    base, trainable, total, lora_per_module, _ = _materialised(name, lora)
    report = lora_audit.audit(TINY / name, copy.deepcopy(lora))
    assert report.applied
    assert report.params.base == base
    assert report.params.trainable == trainable
    assert report.params.total == total
    assert report.params.frozen == total - trainable
    assert sum(report.params.trainable_breakdown.values()) == trainable
    assert report.params.trainable_breakdown["other"] == 0
    # Every LoRA layer PEFT created is a row, with PEFT's parameter count.
    assert sum(r.lora_params for r in report.adapted_modules) == sum(lora_per_module.values())
    assert len(report.adapted_modules) == len(lora_per_module)


@pytest.mark.parametrize("name, lora", CASES[:6], ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES[:6])])
def test_in_memory_module_gives_the_same_counts(name, lora):
    config = AutoConfig.from_pretrained(TINY / name)
    model = AutoModelForCausalLM.from_config(config)
    from_module = lora_audit.audit(model, copy.deepcopy(lora))
    from_path = lora_audit.audit(TINY / name, copy.deepcopy(lora))
    assert from_module.params == from_path.params
    assert [r.name for r in from_module.adapted_modules] == [r.name for r in from_path.adapted_modules]


def test_breakdown_separates_every_kind_of_trainable_parameter():
    lora = {"target_modules": "all-linear", "use_dora": True, "bias": "all", "modules_to_save": ["embed_tokens"]}
    report = lora_audit.audit(TINY / "qwen2", lora)
    _, trainable, _, _, peft_model = _materialised("qwen2", lora)
    by_kind = report.params.trainable_breakdown
    magnitude = sum(p.numel() for n, p in peft_model.named_parameters() if "lora_magnitude_vector" in n)
    copies = sum(p.numel() for n, p in peft_model.named_parameters() if ".modules_to_save." in n and p.requires_grad)
    assert by_kind["dora_magnitude"] == magnitude > 0
    assert by_kind["modules_to_save"] == copies > 0
    assert by_kind["bias"] > 0
    assert sum(by_kind.values()) == trainable


def test_rank_pattern_rows_carry_the_patterned_rank():
    report = lora_audit.audit(
        TINY / "qwen2", {"r": 8, "target_modules": ["q_proj", "down_proj"], "rank_pattern": {"down_proj": 16}}
    )
    ranks = {r.name.rsplit(".", 1)[-1]: r.r for r in report.adapted_modules}
    assert ranks == {"q_proj": 8, "down_proj": 16}
    for row in report.adapted_modules:
        assert row.lora_params == row.r * (row.in_features + row.out_features)
        assert row.dense_params == row.in_features * row.out_features
