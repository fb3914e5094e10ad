"""Stage 1b: building the meta model, choosing the head class, refusing remote code."""

from __future__ import annotations

import json

import pytest
import transformers

import lora_audit
from lora_audit.errors import AuditError
from lora_audit.model.build import build_meta_model
from lora_audit.model.locate import resolve_model_source
from tests.conftest import FIXTURES, MODELS


def _built(model_id: str, **kwargs):
    return build_meta_model(resolve_model_source(model_id), **kwargs)


@pytest.mark.parametrize(
    "model_id, class_name",
    [
        ("openai/whisper-large-v2", "WhisperForConditionalGeneration"),
        ("google/vit-base-patch16-224", "ViTForImageClassification"),
        ("Qwen/Qwen2-VL-2B-Instruct", "Qwen2VLForConditionalGeneration"),
        ("google-bert/bert-base-uncased", "BertForMaskedLM"),
        ("google-t5/t5-base", "T5ForConditionalGeneration"),
    ],
)
def test_head_class_comes_from_architectures(model_id, class_name):
    built = _built(model_id)
    assert built.class_name == class_name
    model = built.factory()
    assert next(model.parameters()).device.type == "meta"


def test_task_type_and_model_class_override_the_head():
    assert _built("Qwen/Qwen2.5-0.5B", task_type="SEQ_CLS").class_name == "Qwen2ForSequenceClassification"
    assert _built("openai/whisper-large-v2", task_type="SEQ_2_SEQ_LM").class_name == "WhisperForConditionalGeneration"
    assert _built("Qwen/Qwen2.5-0.5B", task_type="TOKEN_CLS").class_name == "Qwen2ForTokenClassification"
    built = _built("meta-llama/Meta-Llama-3-8B", model_class="LlamaForSequenceClassification")
    assert built.class_name == "LlamaForSequenceClassification"
    assert _built("Qwen/Qwen2.5-0.5B", model_class="AutoModel").class_name == "Qwen2Model"


def test_task_type_in_the_lora_config_picks_the_head_too():
    report = lora_audit.audit("google-bert/bert-base-uncased", {"task_type": "SEQ_CLS"})
    assert report.model.class_name == "BertForSequenceClassification"


@pytest.mark.parametrize(
    "kwargs, code",
    [
        ({"task_type": "SEQ_2_SEQ_LM"}, "no-head-for-task"),
        ({"model_class": "NotAClass"}, "unknown-model-class"),
        ({"model_class": "PreTrainedConfig"}, "unknown-model-class"),
    ],
)
def test_impossible_heads_are_refused(kwargs, code):
    with pytest.raises(AuditError) as info:
        _built("Qwen/Qwen2.5-0.5B", **kwargs)
    assert info.value.code == code


def test_config_without_architectures_builds_the_bare_model_and_says_so():
    built = _built("microsoft/deberta-v3-base")
    assert built.class_name == "DebertaV2Model"
    assert "no architectures" in built.notes[0]


def test_unknown_architecture_name_falls_back_to_the_auto_class(tmp_path):
    config = json.loads((MODELS / "Qwen--Qwen2.5-0.5B" / "config.json").read_text())
    config["architectures"] = ["QwenLegacyForCausalLM"]
    (tmp_path / "config.json").write_text(json.dumps(config))
    built = build_meta_model(resolve_model_source(str(tmp_path)))
    assert built.class_name == "Qwen2ForCausalLM"
    assert "AutoModelForCausalLM" in built.notes[0]


def _config_dir(tmp_path, **config):
    (tmp_path / "config.json").write_text(json.dumps(config))
    return resolve_model_source(str(tmp_path))


def test_remote_code_is_refused_and_never_imported(tmp_path):
    marker = tmp_path / "EXECUTED"
    (tmp_path / "configuration_foo.py").write_text(f"open({str(marker)!r}, 'w').write('x')\n")
    (tmp_path / "modeling_foo.py").write_text(f"open({str(marker)!r}, 'w').write('x')\n")
    source = _config_dir(
        tmp_path, model_type="foo_custom", architectures=["FooForCausalLM"],
        auto_map={"AutoConfig": "configuration_foo.FooConfig", "AutoModelForCausalLM": "modeling_foo.FooForCausalLM"},
    )
    with pytest.raises(AuditError) as info:
        build_meta_model(source)
    assert info.value.code == "remote-code-required"
    assert "--trust-remote-code" in info.value.hint
    assert not marker.exists()


def test_known_model_type_with_auto_map_uses_the_builtin_class():
    # Phi-3's published config keeps an auto_map, but transformers 5 has Phi3 built in.
    built = _built("microsoft/Phi-3-mini-4k-instruct")
    assert built.class_name == "Phi3ForCausalLM"


def test_unknown_model_type_names_the_transformers_version(tmp_path):
    with pytest.raises(AuditError) as info:
        build_meta_model(_config_dir(tmp_path, model_type="llama99", hidden_size=8))
    assert info.value.code == "unknown-model-type"
    assert transformers.__version__ in info.value.message
    assert "pip install -U transformers" in info.value.hint


def test_empty_and_unbuildable_models(tmp_path):
    config = json.loads((MODELS / "Qwen--Qwen2.5-0.5B" / "config.json").read_text())
    with pytest.raises(AuditError) as info:
        build_meta_model(_config_dir(tmp_path, **{**config, "num_hidden_layers": 0}))
    assert info.value.code == "empty-model"
    with pytest.raises(AuditError) as info:
        build_meta_model(_config_dir(tmp_path, **{**config, "num_attention_heads": 0}))
    assert info.value.code in ("build-failed", "config-invalid")
    assert "Qwen2" in info.value.message or "qwen2" in info.value.message


def test_trust_remote_code_builds_the_repository_class(monkeypatch, tmp_path):
    """With the flag, the repository's own code builds the model (its auto_map picks the head)."""
    monkeypatch.setenv("HF_MODULES_CACHE", str(tmp_path / "modules"))
    report = lora_audit.audit(FIXTURES / "custom-code", {"target_modules": ["proj", "out"]}, trust_remote_code=True)
    assert report.model.class_name == "TinyCustomForCausalLM"
    assert report.notes == ["custom code via AutoModelForCausalLM (trust_remote_code)"]
    assert report.params.trainable == 2 * 2 * 8 * (16 + 16)  # 2 layers x 2 Linear(16, 16) x r(d+k), r=8
    with pytest.raises(AuditError) as info:
        lora_audit.audit(FIXTURES / "custom-code", {"target_modules": ["proj"]})
    assert info.value.code == "remote-code-required"
