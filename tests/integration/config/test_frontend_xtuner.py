"""xtuner's Python configs, read statically (never run, nothing imported): mmengine's ``dict(type=F, ...)`` as the
call ``F(...)``, and xtuner's own default targets (xtuner @ b934f462, ``SupervisedFinetune._prepare_for_lora``)."""

from __future__ import annotations

import pytest
from peft import LoraConfig

from lora_audit import audit
from lora_audit.errors import AuditError
from tests.conftest import FIXTURES

XTUNER = FIXTURES / "xtuner"
LLAMA3 = "meta-llama/Meta-Llama-3-8B"


def test_xtuners_own_qlora_config_gets_find_all_linear_names_not_peft_defaults():
    report = audit(LLAMA3, config_file=XTUNER / "llama3_8b_instruct_qlora_alpaca_e3.py", offline=True)
    # xtuner: every nn.Linear's last name but lm_head; on Llama that is PEFT's all-linear
    direct = audit(LLAMA3, LoraConfig(r=64, lora_alpha=16, lora_dropout=0.1, bias="none", task_type="CAUSAL_LM",
                                      target_modules="all-linear"), offline=True)
    assert report.params == direct.params and report.params.trainable == 167_772_160
    assert sorted(report.lora_config["target_modules"]) == ["down_proj", "gate_proj", "k_proj", "o_proj", "q_proj",
                                                             "up_proj", "v_proj"]
    assert report.quantization is not None and report.quantization.bits == 4
    source = report.lora_config_source
    assert source.model == "meta-llama/Meta-Llama-3-8B-Instruct"
    assert any("find_all_linear_names" in step for step in source.steps)


def _config(tmp_path, model_type: str, lora: str) -> str:
    path = tmp_path / "cfg.py"
    path.write_text(
        "from peft import LoraConfig\nfrom transformers import AutoModelForCausalLM\n"
        f"from xtuner.model import {model_type}\n"
        "name = 'Qwen/Qwen2.5-0.5B'\n"
        f"model = dict(type={model_type}, llm=dict(type=AutoModelForCausalLM.from_pretrained,\n"
        f"    pretrained_model_name_or_path=name), lora=dict(type=LoraConfig, {lora}))\n")
    return str(path)


def test_named_targets_are_peft_s_and_the_model_is_the_llm(tmp_path):
    path = _config(tmp_path, "SupervisedFinetune", "r=8, target_modules=['q_proj', 'v_proj']")
    report = audit(None, config_file=path, offline=True)
    direct = audit("Qwen/Qwen2.5-0.5B", LoraConfig(r=8, target_modules=["q_proj", "v_proj"]), offline=True)
    assert report.params == direct.params
    assert report.lora_config_source.model == "Qwen/Qwen2.5-0.5B"


def test_a_lora_inside_another_xtuner_model_is_refused(tmp_path):
    with pytest.raises(AuditError) as caught:
        audit(None, config_file=_config(tmp_path, "LLaVAModel", "r=8"), offline=True)
    assert "xtuner.model.LLaVAModel" in caught.value.message
