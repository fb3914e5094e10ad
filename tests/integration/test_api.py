"""The Python API: audit(model, lora_config) -> Report, leaving the caller's objects untouched."""

from __future__ import annotations

import copy
import json

import pytest
import torch
from peft import LoraConfig
from transformers import AutoConfig, AutoModelForCausalLM

import lora_audit
from lora_audit import AuditError
from tests.conftest import TINY


@pytest.fixture
def real_model():
    torch.manual_seed(0)
    return AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(TINY / "qwen2"))


def _fingerprint(model):
    return (
        str(model),
        {k: v.clone() for k, v in model.state_dict().items()},
        {n: p.requires_grad for n, p in model.named_parameters()},
    )


def _same(a, b):
    assert a[0] == b[0] and a[2] == b[2]
    assert a[1].keys() == b[1].keys()
    assert all(torch.equal(a[1][k], b[1][k]) for k in a[1])


def test_in_memory_model_and_config_are_untouched(real_model):
    config = LoraConfig(r=4, target_modules="all-linear", modules_to_save=["lm_head"])
    config_before = copy.deepcopy(config)
    before = _fingerprint(real_model)
    report = lora_audit.audit(real_model, config)
    assert report.applied and report.params.trainable > 0
    _same(before, _fingerprint(real_model))
    assert config == config_before  # PEFT would have resolved all-linear in place
    assert config.target_modules == "all-linear"
    assert config.base_model_name_or_path is None
    assert all(p.device.type == "cpu" for p in real_model.parameters())


def test_model_untouched_when_the_audit_fails(real_model):
    before = _fingerprint(real_model)
    report = lora_audit.audit(real_model, {"target_modules": ["nope"]})
    assert not report.applied and not report.ok
    _same(before, _fingerprint(real_model))
    with pytest.raises(AuditError):
        lora_audit.audit(real_model, {"r": 0})
    _same(before, _fingerprint(real_model))


def test_report_to_dict_is_the_json(validate):
    report = lora_audit.audit("Qwen/Qwen2.5-0.5B", {"target_modules": ["q_proj", "v_proj"]})
    data = report.to_dict()
    assert json.loads(report.to_json()) == data
    validate(data)
    assert report.ok and data["ok"] is True
    assert data["summary"] == {"errors": 0, "warnings": 0, "infos": 0, "suppressed": 0}


def test_report_ok_follows_fail_on():
    from lora_audit.rules.settings import Settings

    report = lora_audit.audit("Qwen/Qwen2.5-0.5B", {"target_modules": ["q_proj", "c_attn"]})
    assert not report.ok and report.exit_code == 1
    relaxed = lora_audit.audit(
        "Qwen/Qwen2.5-0.5B", {"target_modules": ["q_proj", "c_attn"]}, settings=Settings(fail_on="never")
    )
    assert relaxed.ok


def test_user_mistakes_raise_audit_error():
    with pytest.raises(AuditError) as info:
        lora_audit.audit(42, {})
    assert info.value.code == "invalid-model"
    with pytest.raises(AuditError):
        lora_audit.audit("Qwen/Qwen2.5-0.5B", ["q_proj"])
