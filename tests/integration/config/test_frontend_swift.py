"""ms-swift's ``swift sft`` command lines, read as ms-swift's prepare_adapter builds the LoraConfig
(modelscope/ms-swift @ 3602360a). The script is split with shlex, never run."""

from __future__ import annotations

import pytest
from peft import LoraConfig

from lora_audit import audit
from lora_audit.config.frontends.swift import find_all_linears
from lora_audit.config.loading import load_config_file
from lora_audit.config.static.shell import read_command
from lora_audit.errors import AuditError
from tests.conftest import FIXTURES

SWIFT = FIXTURES / "ms-swift"
QWEN = "Qwen/Qwen2.5-0.5B"
ALL_LINEAR = ["down_proj", "gate_proj", "k_proj", "o_proj", "q_proj", "up_proj", "v_proj"]


def _script(tmp_path, body: str):
    path = tmp_path / "train.sh"
    path.write_text("CUDA_VISIBLE_DEVICES=0 \\\nswift sft \\\n" + body)
    return path


def test_ms_swifts_own_example_is_the_loraconfig_it_builds():
    report = audit(QWEN, config_file=SWIFT / "eval-train_eval-train.sh", offline=True)
    direct = audit(QWEN, LoraConfig(task_type="CAUSAL_LM", r=8, lora_alpha=32, lora_dropout=0.05, bias="none",
                                    target_modules=ALL_LINEAR, modules_to_save=None), offline=True)
    assert report.params == direct.params and report.params.trainable == 4_399_104
    assert sorted(report.lora_config["target_modules"]) == ALL_LINEAR
    source = report.lora_config_source
    assert source.format == "swift" and source.model == "Qwen/Qwen2.5-0.5B-Instruct" and source.model_key == "--model"
    # the memory estimate's inputs: what the command gives, and a flag for what ms-swift decides itself
    training = load_config_file(SWIFT / "eval-train_eval-train.sh")
    assert training.data["per_device_train_batch_size"] == 1 and training.data["max_length"] == 2048


def test_arguments_lists_switches_and_quotes(tmp_path):
    data = read_command(_script(tmp_path, "  --model 'Qwen/Qwen2.5-0.5B' --lora_rank=16 \\\n"
                                          "  --target_modules q_proj v_proj --use_rslora true --use_dora \\\n"
                                          "  --modules_to_save lm_head 2>&1 | tee log\n").read_text(), "train.sh")
    assert data["model"] == "Qwen/Qwen2.5-0.5B" and data["lora_rank"] == 16
    assert data["target_modules"] == ["q_proj", "v_proj"] and data["modules_to_save"] == ["lm_head"]
    assert data["use_rslora"] is True and data["use_dora"] is True


def test_a_shell_variable_is_refused_with_the_argument_it_sets(tmp_path):
    with pytest.raises(AuditError) as caught:
        audit(QWEN, config_file=_script(tmp_path, "  --model Qwen/Qwen2.5-0.5B --lora_rank $RANK\n"), offline=True)
    assert caught.value.code == "script-unresolved" and "--lora_rank $RANK" in caught.value.message


def test_another_tuner_and_all_linear_on_a_multimodal_model_are_refused(tmp_path):
    with pytest.raises(AuditError, match="tuner_type boft"):
        audit(QWEN, config_file=_script(tmp_path, "  --model x --tuner_type boft\n"), offline=True)
    with pytest.raises(AuditError, match="multimodal"):
        audit("Qwen/Qwen2-VL-2B-Instruct", config_file=_script(tmp_path, "  --model x --tuner_type lora\n"),
              offline=True)


def test_find_all_linears_keeps_fused_names_and_skips_the_head():
    import torch
    import transformers

    config = transformers.AutoConfig.from_pretrained(FIXTURES / "models" / "microsoft--Phi-3-mini-4k-instruct")
    with torch.device("meta"):
        model = transformers.AutoModelForCausalLM.from_config(config)
    assert find_all_linears(model) == ["down_proj", "gate_up_proj", "o_proj", "qkv_proj"]


def test_the_moe_example_reaches_no_expert_under_transformers_5():
    """examples/train/moe/qwen3_moe.sh leaves target_modules at all-linear. On transformers 5 the experts are fused
    parameters, not Linear layers, so find_all_linears finds attention only, and LA028 says no expert trains."""
    report = audit("Qwen/Qwen3-30B-A3B", config_file=SWIFT / "train-moe-qwen3_moe.sh", offline=True)
    assert sorted(report.lora_config["target_modules"]) == ["k_proj", "o_proj", "q_proj", "v_proj"]
    direct = audit("Qwen/Qwen3-30B-A3B", LoraConfig(task_type="CAUSAL_LM", r=8, lora_alpha=32, lora_dropout=0.05,
                                                    target_modules=["q_proj", "k_proj", "v_proj", "o_proj"]),
                   offline=True)
    assert report.params == direct.params
    assert "LA028" in {f.code for f in report.findings}
