"""Every PEFT method the installed PEFT registers: lora-audit's counts on meta equal PEFT's on real weights.

The list is PEFT's own (``PEFT_TYPE_TO_CONFIG_MAPPING``, through ``lora_audit.config.methods``), so a
method a newer PEFT adds is tested without a change here. Each case builds the tiny Qwen2 twice: with
real CPU weights adapted by plain ``get_peft_model``, and through lora-audit (config.json -> meta).
"""

from __future__ import annotations

import copy
import json

import pytest
import torch
from peft import get_peft_model
from peft.tuners.tuners_utils import BaseTunerLayer
from transformers import AutoConfig, AutoModelForCausalLM

import lora_audit
from lora_audit.config import methods
from lora_audit.errors import AuditError
from tests.conftest import TINY

#: Settings a method needs on the tiny model (hidden 64, k/v 32 wide); everything else is PEFT's default.
KWARGS = {
    "ADALORA": {"total_step": 100},
    "C3A": {"block_size": 16},
    "ROAD": {"group_size": 16},
    "VBLORA": {"vector_length": 16},
    "WAVEFT": {"n_frequency": 64},
    "SHIRA": {"r": 2},
    "TRAINABLE_TOKENS": {"token_indices": [1, 2, 3], "target_modules": ["embed_tokens"]},
    "LN_TUNING": {"target_modules": ["input_layernorm", "post_attention_layernorm"]},
    "ADAPTION_PROMPT": {"adapter_len": 4, "adapter_layers": 1, "task_type": "CAUSAL_LM"},
}
#: A fast sample for the default run; every method runs under -m slow.
FAST = ("LORA", "LOHA", "LOKR", "IA3", "VERA", "ADALORA", "OFT", "PREFIX_TUNING")


def _config(method: str) -> dict:
    fields = {"peft_type": method}
    if methods.is_prompt_learning(method):
        fields.update(task_type="CAUSAL_LM", num_virtual_tokens=4)
    elif "target_modules" in methods.field_names(method):
        fields["target_modules"] = ["q_proj", "v_proj"]
    fields.update(KWARGS.get(method, {}))
    return fields


def _real(fields: dict, model_dir=TINY / "qwen2"):
    config = AutoConfig.from_pretrained(model_dir)
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(config)
    peft_config = methods.config_class(fields["peft_type"])(
        **{k: copy.deepcopy(v) for k, v in fields.items() if k != "peft_type"})
    peft_model = get_peft_model(model, peft_config)
    per_module = {}
    seen: set[int] = set()  # a tensor shared by several layers belongs to the first (the report's convention)
    for name, module in peft_model.get_base_model().named_modules():
        if isinstance(module, BaseTunerLayer):
            tensors = {}
            for attr in module.adapter_layer_names:
                holder = getattr(module, attr)
                if "default" in holder:
                    item = holder["default"]
                    for t in [item] if isinstance(item, torch.Tensor) else item.parameters():
                        tensors[id(t)] = t.numel() if t.requires_grad and id(t) not in seen else 0
            seen.update(tensors)
            if tensors:
                per_module[name] = sum(tensors.values())
    return peft_model, per_module


def _cases():
    out = []
    for method in methods.names():
        if method in methods.REFUSED:
            continue
        marks = () if method in FAST else (pytest.mark.slow,)
        out.append(pytest.param(method, marks=marks, id=method.lower()))
    return out


@pytest.mark.parametrize("method", _cases())
def test_every_method_counts_as_peft_does_on_real_weights(method):
    fields = _config(method)
    try:
        real, per_module = _real(fields)
    except ImportError:
        with pytest.raises(AuditError) as missing:
            lora_audit.audit(TINY / "qwen2", copy.deepcopy(fields))
        assert missing.value.code == "missing-dependency"
        return
    except Exception as exc:  # noqa: BLE001 - PEFT refuses the config on the real model too
        report = lora_audit.audit(TINY / "qwen2", copy.deepcopy(fields))
        assert not report.applied and report.apply_error.type == type(exc).__name__
        return
    try:
        report = lora_audit.audit(TINY / "qwen2", copy.deepcopy(fields))
    except AuditError as exc:
        # Only a method whose init reads the base weights' values may be refused, and it says so.
        assert exc.code == "method-needs-weights", exc
        return
    trainable, total = real.get_nb_trainable_parameters()
    assert (report.params.trainable, report.params.total) == (trainable, total)
    assert report.method.peft_type == method
    assert report.method.prompt_learning == methods.is_prompt_learning(method)
    assert {row.name: row.lora_params for row in report.adapted_modules} == per_module
    if not report.method.prompt_learning and report.targets:
        matched = sorted({m for t in report.targets for m in t.modules})
        assert matched == sorted(real.base_model.targeted_module_names)


@pytest.mark.parametrize("dtype", ["bfloat16", "float32"])
def test_adalora_counts_follow_the_base_dtype_as_on_real_weights(tmp_path, dtype):
    """PEFT re-wraps AdaLoRA's frozen ranknum as a trainable Parameter when it casts it to a bf16 base's dtype."""
    config = json.loads((TINY / "qwen2" / "config.json").read_text())
    (tmp_path / "config.json").write_text(json.dumps({**config, "torch_dtype": dtype}))
    fields = _config("ADALORA")
    real, _ = _real(fields, tmp_path)
    report = lora_audit.audit(tmp_path, copy.deepcopy(fields))
    assert report.params.trainable == real.get_nb_trainable_parameters()[0]
    assert report.params.trainable == 5424 + (4 if dtype == "bfloat16" else 0)  # 4 ranknum scalars


@pytest.mark.parametrize("method", [m for m, formula in methods.FORMULAS.items()])
def test_each_formula_named_in_the_table_is_the_count_peft_creates(method):
    """The per-layer column header names a formula only where it equals every row PEFT made."""
    fields = _config(method)
    fields.update({"target_modules": ["q_proj", "v_proj", "down_proj"]})
    if method == "IA3":
        fields["feedforward_modules"] = ["down_proj"]
    report = lora_audit.audit(TINY / "qwen2", fields)
    assert report.method.formula == methods.FORMULAS[method]
    for row in report.adapted_modules:
        d, k, r = row.out_features, row.in_features, row.r
        feed_forward = row.name.endswith("down_proj")
        expected = {
            "LORA": r * (d + k) if r else None,
            "LOHA": 2 * r * (d + k) if r else None,
            "IA3": k if feed_forward else d,
            "VERA": d + r if r else None,
        }[method]
        assert row.lora_params == expected, row


def test_prompt_learning_has_no_target_table_and_says_why():
    report = lora_audit.audit(TINY / "qwen2", {"peft_type": "PROMPT_TUNING", "num_virtual_tokens": 8,
                                               "task_type": "CAUSAL_LM"})
    assert report.targets == [] and report.adapted_modules == []
    assert report.params.trainable == 8 * 64 == report.params.trainable_breakdown["adapter"]
    assert any("prompt learning" in note for note in report.notes)
    assert not any(f.code == "LA002" for f in report.findings)  # "nothing adapted" is what it means to do


def test_rules_run_only_on_the_methods_they_apply_to():
    # A target that matches nothing: LA001 fires for LoHa as for LoRA; LA018 (LoRA's scaling) never runs.
    report = lora_audit.audit(TINY / "qwen2", {"peft_type": "LOHA", "target_modules": ["q_proj", "qkv_proj"],
                                               "r": 8, "alpha": 1024})
    codes = {f.code for f in report.findings}
    assert "LA001" in codes and "LA018" not in codes
    lora = lora_audit.audit(TINY / "qwen2", {"target_modules": ["q_proj", "qkv_proj"], "r": 8, "lora_alpha": 1024})
    assert {"LA001", "LA018"} <= {f.code for f in lora.findings}
