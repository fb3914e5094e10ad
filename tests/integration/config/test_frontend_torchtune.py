"""torchtune LoRA recipes, mapped onto the HF model (torchtune 0.6.1).

The default tests check the mapping on the bundled recipes; the ``torchtune`` tests build torchtune's own
model in the environment .ci/torchtune makes (torchtune 0.6.1 needs a torchao older than PEFT 0.21
accepts, so it cannot share the main environment) and compare every count with lora-audit's."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from peft import LoraConfig

from lora_audit import audit
from lora_audit.config.frontends import torchtune
from lora_audit.config.loading import load_config_file
from lora_audit.errors import AuditError
from tests.conftest import FIXTURES, ROOT

TT = FIXTURES / "torchtune"
LLAMA3 = "meta-llama/Meta-Llama-3-8B"


def test_the_llama3_recipe_is_peft_lora_on_the_modules_torchtune_maps_to():
    report = audit(LLAMA3, config_file=TT / "llama3_8B_lora_single_device.yaml", offline=True)
    names = ["q_proj", "v_proj", "o_proj", "gate_proj", "down_proj", "up_proj"]
    direct = audit(LLAMA3, LoraConfig(r=8, lora_alpha=16, lora_dropout=0.0, target_modules=names, bias="none",
                                      task_type="CAUSAL_LM"), offline=True)
    assert report.params == direct.params
    assert report.lora_config_source.format == "torchtune"
    assert not [f for f in report.findings if f.code == "LA001"]  # output_proj is o_proj, not an unmatched name
    assert any("output_proj -> o_proj" in step for step in report.lora_config_source.steps)


def test_phi3_is_refused_with_the_translation_not_counted():
    with pytest.raises(AuditError) as caught:
        audit("microsoft/Phi-3-mini-4k-instruct", config_file=TT / "phi3_mini_lora_single_device.yaml", offline=True)
    assert caught.value.code == "not-a-lora-config" and "splits HF's fused qkv_proj" in caught.value.message


def test_an_argument_the_builder_lacks_is_its_type_error(tmp_path):
    path = tmp_path / "recipe.yaml"
    path.write_text("model:\n  _component_: torchtune.models.qwen2.lora_qwen2_0_5b\n  lora_attn_modules: [q_proj]\n"
                    "  apply_lora_to_output: true\n")
    with pytest.raises(AuditError) as caught:
        torchtune.translate(load_config_file(path))
    assert "has no argument 'apply_lora_to_output'" in caught.value.message  # torchtune 0.6.1's qwen2 builders


def test_a_full_finetune_recipe_is_still_named_and_refused(tmp_path):
    path = tmp_path / "full.yaml"
    path.write_text("model:\n  _component_: torchtune.models.llama3.llama3_8b\noptimizer:\n"
                    "  _component_: torch.optim.AdamW\n")
    with pytest.raises(AuditError, match="torchtune config"):
        audit(LLAMA3, config_file=path, offline=True)


#: (family, torchtune's tiny builder, its dims, the HF config of the same shapes)
_TINY = {
    "llama3": ("lora_llama3", {"vocab_size": 256, "num_layers": 2, "num_heads": 4, "num_kv_heads": 2,
                               "embed_dim": 64, "max_seq_len": 128, "intermediate_dim": 128},
               {"model_type": "llama", "architectures": ["LlamaForCausalLM"], "vocab_size": 256,
                "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "hidden_size": 64,
                "intermediate_size": 128, "max_position_embeddings": 128, "tie_word_embeddings": False}),
    "qwen2": ("lora_qwen2", {"vocab_size": 256, "num_layers": 2, "num_heads": 4, "num_kv_heads": 2, "embed_dim": 64,
                             "intermediate_dim": 128, "max_seq_len": 128},
              {"model_type": "qwen2", "architectures": ["Qwen2ForCausalLM"], "vocab_size": 256,
               "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "hidden_size": 64,
               "intermediate_size": 128, "max_position_embeddings": 128, "tie_word_embeddings": False}),
}
_RECIPES = [
    ("llama3", "lora_llama3_8b", {"lora_attn_modules": ["q_proj", "v_proj", "output_proj"], "apply_lora_to_mlp": True,
                                  "apply_lora_to_output": True, "lora_rank": 4, "lora_alpha": 8}),
    ("llama3", "lora_llama3_8b", {"lora_attn_modules": ["k_proj"], "use_dora": True}),
    ("qwen2", "lora_qwen2_0_5b", {"lora_attn_modules": ["q_proj", "k_proj", "v_proj", "output_proj"],
                                  "apply_lora_to_mlp": True, "lora_rank": 16}),
]


@pytest.mark.torchtune
@pytest.mark.parametrize("family, component, section", _RECIPES)
def test_torchtunes_own_model_trains_what_the_audit_counts(tmp_path, family, component, section):
    python = os.environ.get("LORA_AUDIT_TORCHTUNE_PYTHON")
    if not python:
        if os.environ.get("LORA_AUDIT_REQUIRE_TORCHTUNE"):
            pytest.fail("LORA_AUDIT_TORCHTUNE_PYTHON is not set")
        pytest.skip("torchtune lives in its own environment: run .ci/torchtune")
    builder, dims, hf = _TINY[family]
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(json.dumps({"model": {"_component_": f"torchtune.models.{family}.{component}", **section}}))
    fields = torchtune.translate(load_config_file(recipe)).fields
    kwargs = {**torchtune.DEFAULTS, **section, **dims}
    kwargs = {k: v for k, v in kwargs.items() if k != "quantize_base" or v}
    result = subprocess.run([python, str(ROOT / "tests" / "integration" / "config" / "torchtune_counts.py")],
                            input=json.dumps({"family": family, "builder": builder, "kwargs": kwargs}),
                            capture_output=True, text=True, timeout=300, check=True)
    theirs = json.loads(result.stdout.strip().splitlines()[-1])
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text(json.dumps(hf))
    report = audit(model, fields)
    assert report.params.trainable == theirs["trainable"]
    assert {row.name: row.lora_params + row.dora_params for row in report.adapted_modules} == theirs["adapted"]
