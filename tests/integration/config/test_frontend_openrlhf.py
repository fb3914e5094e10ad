"""OpenRLHF's command lines (``deepspeed --module openrlhf.cli.train_sft ...``), read as OpenRLHF's Actor builds
the LoraConfig (OpenRLHF/OpenRLHF @ 3c3be623, and the argument names before ed62d0e2). Never run."""

from __future__ import annotations

import pytest
import torch
from peft import LoraConfig, TaskType, get_peft_model
from transformers import AutoConfig, AutoModelForCausalLM

from lora_audit import audit
from lora_audit.config import frontends
from lora_audit.config.loading import load_config_file
from lora_audit.errors import AuditError
from tests.conftest import FIXTURES, MODELS

OPENRLHF = FIXTURES / "openrlhf"
QWEN = "Qwen/Qwen2.5-0.5B"


def _actor_counts(model_dir: str, **lora) -> tuple[int, int]:
    """OpenRLHF's Actor (openrlhf/models/actor.py): AutoModelForCausalLM, then this LoraConfig."""
    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(MODELS / model_dir))
    config = LoraConfig(task_type=TaskType.CAUSAL_LM, bias="none", **lora)
    return get_peft_model(model, config, low_cpu_mem_usage=True).get_nb_trainable_parameters()


@pytest.mark.parametrize("script", ["train_sft_mixtral_lora.sh", "train_sft_mixtral_lora-v0.9.sh"])
def test_openrlhfs_own_mixtral_example_is_the_actors_loraconfig(script):
    report = audit(None, config_file=OPENRLHF / script, offline=True)
    expected = _actor_counts("mistralai--Mixtral-8x7B-v0.1", r=64, lora_alpha=64, target_modules="all-linear",
                             lora_dropout=0)
    assert (report.params.trainable, report.params.total) == expected
    source = report.lora_config_source
    assert source.format == "openrlhf" and source.model == "mistralai/Mixtral-8x7B-v0.1"
    assert source.model_key in ("--model.model_name_or_path", "--pretrain")
    data = load_config_file(OPENRLHF / script).data
    assert frontends.detect(data).NAME == "openrlhf"


def _script(tmp_path, body: str):
    path = tmp_path / "train.sh"
    path.write_text("read -r -d '' training_commands <<EOF\nopenrlhf.cli.train_sft \\\n"
                    f"   --model.model_name_or_path {QWEN} \\\n{body}\nEOF\ndeepspeed --module $training_commands\n")
    return path


def test_targets_written_out_reach_peft_as_the_parser_gives_them(tmp_path):
    named = audit(None, config_file=_script(tmp_path, "   --ds.lora.rank 8 --ds.lora.target_modules q_proj v_proj "
                                                      "--ds.load_in_4bit"), offline=True)
    assert (named.params.trainable, named.params.total) == _actor_counts(
        "Qwen--Qwen2.5-0.5B", r=8, lora_alpha=16, target_modules=["q_proj", "v_proj"], lora_dropout=0)
    assert named.quantization is not None and named.quantization.bits == 4
    # written out, all-linear is the list ['all-linear']: PEFT takes it for a module name, as in training
    listed = audit(None, config_file=_script(tmp_path, "   --ds.lora.rank 8 --ds.lora.target_modules all-linear"),
                   offline=True)
    assert listed.params.trainable == 0 and {"LA001", "LA002"} <= {f.code for f in listed.findings}
    assert any("not as its all-linear shorthand" in step for step in listed.lora_config_source.steps)


@pytest.mark.parametrize(("body", "said"), [
    ("   --ds.lora.alpha 16", "trains the whole model"),
    ("   --ds.lora.rank $RANK", "known only when the shell runs"),
])
def test_what_openrlhf_would_not_train_as_lora_is_refused(tmp_path, body, said):
    with pytest.raises(AuditError) as caught:
        audit(None, config_file=_script(tmp_path, body), offline=True)
    assert said in caught.value.message


def test_a_reward_model_script_is_refused_by_its_module(tmp_path):
    path = tmp_path / "rm.sh"
    path.write_text("deepspeed --module openrlhf.cli.train_rm --pretrain Qwen/Qwen2.5-0.5B --lora_rank 8\n")
    with pytest.raises(AuditError) as caught:
        audit(None, config_file=path, offline=True)
    assert "openrlhf.cli.train_rm" in caught.value.message and caught.value.code == "not-a-lora-config"
