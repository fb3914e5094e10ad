"""Oumi's recipes, read as Oumi's PeftParams.to_lora() builds the LoraConfig (oumi-ai/oumi @ d8ed0777).

The translation is checked against Oumi's own to_lora() where the recipe's numbers can be reproduced
with PEFT alone: the LoraConfig it builds, given to the API, must give the same report."""

from __future__ import annotations

import pytest
from peft import LoraConfig

from lora_audit import audit
from lora_audit.config.frontends import oumi
from lora_audit.config.loading import load_config_file
from lora_audit.errors import AuditError
from tests.conftest import FIXTURES

OUMI = FIXTURES / "oumi"
PHI3 = "microsoft/Phi-3-mini-4k-instruct"


def _write(tmp_path, text):
    path = tmp_path / "train.yaml"
    path.write_text(text)
    return path


def test_the_phi3_recipe_names_five_modules_phi3_does_not_have():
    report = audit(PHI3, config_file=OUMI / "phi3_sft_lora_train.yaml", offline=True)
    # Oumi's defaults: lora_r 8, lora_alpha 8, lora_dropout 0, bias none, task_type CAUSAL_LM
    direct = audit(PHI3, LoraConfig(r=8, lora_alpha=8, lora_dropout=0.0, bias="none", task_type="CAUSAL_LM",
                                    target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj",
                                                    "down_proj"]), offline=True)
    assert report.params == direct.params
    unmatched = sorted(f.subject for f in report.findings if f.code == "LA001")
    assert unmatched == ["gate_proj", "k_proj", "q_proj", "up_proj", "v_proj"]  # Phi-3 fuses qkv_proj, gate_up_proj
    assert report.lora_config_source.format == "oumi"
    lines = {f.subject: f.location.line for f in report.findings if f.code == "LA001"}
    assert lines["q_proj"] == 36 and lines["up_proj"] == 41  # the list items under peft.lora_target_modules
    assert report.lora_config_source.model == PHI3 and report.lora_config_source.model_key == "model.model_name"


def test_to_lora_rules(tmp_path):
    path = _write(tmp_path, "model:\n  model_name: Qwen/Qwen2.5-0.5B\ntraining:\n  use_peft: true\n"
                            "  per_device_train_batch_size: 4\npeft:\n  lora_r: 16\n  lora_alpha: 32\n"
                            "  lora_target_modules: [all-linear]\n  lora_exclude_modules: ['.*mlp.*']\n"
                            "  lora_init_weights: random\n  q_lora: true\n  q_lora_bits: 8\n")
    translation = oumi.translate(load_config_file(path))
    assert translation.fields["target_modules"] == "all-linear"
    assert translation.fields["exclude_modules"] == "(.*mlp.*)"
    assert translation.fields["init_lora_weights"] is False
    assert translation.quantization["bits"] == 8
    assert translation.training.batch_size.value == 4 and translation.training.unread == ("precision",)
    report = audit("Qwen/Qwen2.5-0.5B", config_file=path, offline=True)
    assert report.lora_config["lora_alpha"] == 32 and report.lora_config["task_type"] == "CAUSAL_LM"
    assert not any(".mlp." in row.name for row in report.adapted_modules)  # the exclude regex kept MLPs out


def test_no_use_peft_is_full_training_and_an_unknown_peft_key_is_what_oumi_refuses(tmp_path):
    full = _write(tmp_path, "model:\n  model_name: Qwen/Qwen2.5-0.5B\ntraining:\n  trainer_type: TRL_SFT\n"
                            "peft:\n  lora_r: 8\n")
    with pytest.raises(AuditError) as caught:
        oumi.translate(load_config_file(full))
    assert caught.value.code == "not-a-lora-config" and "use_peft" in caught.value.message
    typo = _write(tmp_path, "model:\n  model_name: Qwen/Qwen2.5-0.5B\ntraining:\n  use_peft: true\n"
                            "peft:\n  lora_rank: 8\n")
    with pytest.raises(AuditError) as caught:
        oumi.translate(load_config_file(typo))
    assert caught.value.code == "invalid-lora-config" and caught.value.hint == "did you mean peft.lora_r?"
