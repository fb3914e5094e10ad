"""Saved adapters of PEFT methods other than LoRA: written by PEFT's save_pretrained at test time, checked
against the keys ``get_peft_model_state_dict`` gives for their config on the base (header only)."""

from __future__ import annotations

import json

import pytest

from lora_audit import audit
from lora_audit.config import methods
from tests.conftest import TINY

QWEN = TINY / "qwen2"
CONFIGS = {
    "LOHA": {"target_modules": ["q_proj", "v_proj"], "r": 4},
    "LOKR": {"target_modules": ["q_proj", "v_proj"], "r": 4},
    "IA3": {"target_modules": ["q_proj", "down_proj"], "feedforward_modules": ["down_proj"]},
    "OFT": {"target_modules": ["q_proj"], "r": 0, "oft_block_size": 16},
    "PROMPT_TUNING": {"task_type": "CAUSAL_LM", "num_virtual_tokens": 4},
}


def _save(directory, method: str):
    import torch
    from peft import get_peft_model
    from transformers import AutoConfig, AutoModelForCausalLM

    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(QWEN))
    peft_model = get_peft_model(model, methods.config_class(method)(**CONFIGS[method]))
    peft_model.save_pretrained(directory)
    return peft_model.get_nb_trainable_parameters()


@pytest.mark.parametrize("method", sorted(CONFIGS))
def test_a_saved_adapter_of_any_method_is_audited_and_its_keys_checked(tmp_path, method):
    trainable, total = _save(tmp_path / "adapter", method)
    report = audit(QWEN, adapter=tmp_path / "adapter")
    assert report.method.peft_type == method
    assert (report.params.trainable, report.params.total) == (trainable, total)
    assert not [f.code for f in report.findings if f.code.startswith("LA04")]
    adapter = report.adapter
    if methods.is_prompt_learning(method):
        # PEFT computes the saved prompt embedding by running the encoder: listed, not compared, and said so
        assert adapter.comparison is None and "not compared" in adapter.note
        return
    c = adapter.comparison
    assert c.matched == c.expected_tensors == adapter.table.tensors and c.missing_count == c.unexpected_count == 0


def test_a_loha_file_saved_with_another_rank_is_a_shape_error(tmp_path):
    _save(tmp_path / "adapter", "LOHA")
    config_path = tmp_path / "adapter" / "adapter_config.json"
    config = json.loads(config_path.read_text())
    config_path.write_text(json.dumps({**config, "r": 8}))  # the file's tensors are r=4
    report = audit(QWEN, adapter=tmp_path / "adapter")
    mismatch = [f for f in report.findings if f.code == "LA042"]
    assert mismatch and all("LoHa settings" in f.hint for f in mismatch)
    assert report.exit_code == 1
