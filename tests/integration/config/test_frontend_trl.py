"""TRL's ``trl sft --config`` YAML: each translation equals TRL's own ``get_peft_config(ModelConfig(...))``."""

from __future__ import annotations

import copy
import dataclasses

import pytest
import yaml
from peft import get_peft_model

from lora_audit import audit
from lora_audit.config.frontends import detect, llamafactory, translate
from lora_audit.config.frontends import trl as trl_frontend
from lora_audit.config.loading import load_config_file
from lora_audit.config.lora_config import resolve_lora_config
from lora_audit.errors import AuditError
from tests.conftest import FIXTURES, MODELS

trl = pytest.importorskip("trl")

TRL = FIXTURES / "trl"
MISTRAL = "mistralai/Mistral-7B-v0.1"
LORA_FIXTURES = ["zephyr-sft-config_qlora.yaml", "zephyr-dpo-config_qlora.yaml"]


def _trl_config(data: dict):
    """The LoraConfig TRL builds from the file: its own ModelConfig and get_peft_config."""
    names = {f.name for f in dataclasses.fields(trl.ModelConfig)}
    return trl.get_peft_config(trl.ModelConfig(**{k: v for k, v in data.items() if k in names}))


def _peft_counts(model_dir: str, config) -> tuple[int, int]:
    import torch
    import transformers

    hf_config = transformers.AutoConfig.from_pretrained(MODELS / model_dir / "config.json")
    with torch.device("meta"):
        model = transformers.AutoModelForCausalLM.from_config(hf_config)
    peft_model = get_peft_model(model, copy.deepcopy(config))
    params = list(peft_model.parameters())
    return sum(p.numel() for p in params if p.requires_grad), sum(p.numel() for p in params)


@pytest.mark.parametrize("name", sorted(p.name for p in TRL.glob("*.yaml")))
def test_every_fixture_is_detected_as_trl(name):
    assert detect(load_config_file(TRL / name).data) is trl_frontend


def test_detection_leaves_axolotl_and_llamafactory_alone():
    axolotl = {"base_model": "x", "adapter": "lora", "lora_r": 32, "lora_target_modules": ["q_proj"]}
    assert trl_frontend.detect(axolotl) == 0
    assert trl_frontend.detect({"model_name_or_path": "x", "lora_target": "all", "stage": "sft"}) == 0
    assert llamafactory.detect({"model_name_or_path": "x", "use_peft": True, "lora_r": 8}) == 0


def _translated(path, model: str = MISTRAL):
    """The LoraConfig lora-audit hands PEFT: the file's translation, then its model-dependent step."""
    from lora_audit.config.lora_config import expand_for_model
    from lora_audit.model.build import build_meta_model
    from lora_audit.model.locate import resolve_model_source

    spec = resolve_lora_config(file=path)
    return expand_for_model(spec, build_meta_model(resolve_model_source(model, offline=True))).config


@pytest.mark.parametrize("name", LORA_FIXTURES)
def test_translation_equals_trls_get_peft_config(name):
    data = yaml.safe_load((TRL / name).read_text())
    assert _translated(TRL / name).to_dict() == _trl_config(data).to_dict()


@pytest.mark.slow  # 11 s: two 7B QLoRA models through TRL and PEFT
@pytest.mark.parametrize(("name", "trainable"), [
    ("zephyr-sft-config_qlora.yaml", 41_943_040),   # r=16: 32 layers x 16 x (8192+5120+5120+8192+3 x 18432)
    ("zephyr-dpo-config_qlora.yaml", 335_544_320),  # the same at r=128
])
def test_counts_equal_peft_with_trls_config(name, trainable):
    data = yaml.safe_load((TRL / name).read_text())
    report = audit(MISTRAL, config_file=TRL / name, offline=True)
    expected = _peft_counts("mistralai--Mistral-7B-v0.1", _trl_config(data))
    assert (report.params.trainable, report.params.total) == expected
    assert report.params.trainable == trainable
    assert report.lora_config["bias"] == "none" and report.lora_config["task_type"] == "CAUSAL_LM"


def test_load_in_4bit_is_the_quantization_request():
    spec = resolve_lora_config(file=TRL / "zephyr-sft-config_qlora.yaml")
    assert spec.quantization_request == {
        "method": "bitsandbytes", "bits": 4, "source": f"{TRL / 'zephyr-sft-config_qlora.yaml'}: load_in_4bit",
    }
    assert spec.translation.model == MISTRAL
    report = audit(MISTRAL, config_file=TRL / "zephyr-sft-config_qlora.yaml", offline=True)
    assert (report.quantization.method, report.quantization.bits) == ("bitsandbytes", 4)
    assert report.quantization.source.endswith("zephyr-sft-config_qlora.yaml: load_in_4bit")


def test_trls_own_example_without_use_peft_is_not_lora():
    with pytest.raises(AuditError) as info:
        resolve_lora_config(file=TRL / "example_config.yaml")
    assert info.value.code == "not-a-lora-config"
    assert "use_peft is not set (TRL's default: false)" in info.value.message
    assert "use_peft: true" in info.value.hint
    assert _trl_config(yaml.safe_load((TRL / "example_config.yaml").read_text())) is None  # TRL agrees


def _write(tmp_path, **data):
    path = tmp_path / "trl.yaml"
    path.write_text(yaml.safe_dump({"model_name_or_path": "Qwen/Qwen2.5-0.5B", **data}))
    return path


def test_use_peft_false_is_refused(tmp_path):
    with pytest.raises(AuditError) as info:
        resolve_lora_config(file=_write(tmp_path, use_peft=False, lora_r=8))
    assert "use_peft is False" in info.value.message


@pytest.mark.parametrize("extra", [
    {},  # every default: r 16, alpha 32, dropout 0.05, PEFT's default targets
    {"lora_target_modules": ["q_proj"]},  # a one-entry list becomes a string (a regex) in ModelConfig
    {"lora_target_modules": "all-linear", "use_dora": True, "lora_modules_to_save": ["lm_head"]},
    {"lora_target_parameters": ["mlp.experts.gate_up_proj"], "lora_target_modules": ["q_proj", "v_proj"]},
    {"lora_task_type": "SEQ_CLS", "use_rslora": True, "lora_r": 4, "lora_alpha": 8, "lora_dropout": 0.0},
])
def test_more_model_configs_equal_trls(tmp_path, extra):
    path = _write(tmp_path, use_peft=True, **extra)
    expected = _trl_config(yaml.safe_load(path.read_text()))
    assert _translated(path, "Qwen/Qwen2.5-0.5B").to_dict() == expected.to_dict()


def test_a_one_entry_target_list_is_shown_as_the_regex_trl_makes_of_it(tmp_path):
    translation = translate(load_config_file(_write(tmp_path, use_peft=True, lora_target_modules=["q_proj"])))
    assert translation.fields["target_modules"] == "q_proj"
    assert any("one-entry list into a string" in step for step in translation.steps)


def test_4bit_and_8bit_together_are_refused_as_trl_does(tmp_path):
    with pytest.raises(AuditError) as info:
        resolve_lora_config(file=_write(tmp_path, use_peft=True, load_in_4bit=True, load_in_8bit=True))
    assert "both set" in info.value.message
    with pytest.raises(ValueError):
        trl.ModelConfig(load_in_4bit=True, load_in_8bit=True)


def test_unknown_keys_are_reported(tmp_path):
    translation = translate(load_config_file(_write(tmp_path, use_peft=True, lora_rr=8, learning_rate=1e-4)))
    assert translation.unknown_keys == {"lora_rr": ["lora_r"]}
    assert translation.ignored_keys == []  # learning_rate is TRL's (TrainingArguments)


def test_cli_reads_a_trl_file(cli):
    result = cli(MISTRAL, "--config", str(TRL / "zephyr-sft-config_qlora.yaml"), "--offline", "--format", "json")
    assert result.code == 0, result.err
    assert result.json()["params"]["trainable"] == 41_943_040


def test_readme_commands_for_llamafactory_and_trl_run(cli):
    """The README's one command for each framework works as printed, and reads the file as that framework."""
    import shlex

    readme = (FIXTURES.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("### With axolotl, LLaMA-Factory, TRL", 1)[1].split("\n### ", 1)[0]
    commands = [line for line in section.splitlines() if line.startswith("lora-audit ")]
    formats = {}
    for line in commands:
        if "fixtures/llamafactory/" in line or "fixtures/trl/" in line:
            args = shlex.split(line)[1:]
            args = [str(FIXTURES.parent / a) if a.startswith("fixtures/") else a for a in args]
            result = cli(*args, "--format", "json")
            assert result.code == 0, result.err
            formats[result.json()["lora_config_source"]["format"]] = result.json()["params"]["trainable"]
    assert formats == {"llamafactory": 20_971_520, "trl": 41_943_040}


def test_findings_point_at_the_trl_line(tmp_path):
    path = tmp_path / "trl.yaml"
    path.write_text("model_name_or_path: Qwen/Qwen2.5-0.5B\nuse_peft: true\nlora_target_modules:\n- q_proj\n"
                    "- c_attn\nlora_modules_to_sav: [lm_head]\nlearning_rate: 2.0e-4\n")
    report = audit("Qwen/Qwen2.5-0.5B", config_file=path, offline=True)
    found = {f.code: f for f in report.findings}
    assert (found["LA001"].location.line, found["LA026"].location.line) == (5, 6)
    assert "lora_modules_to_save" in found["LA026"].hint
    assert set(found) == {"LA001", "LA026"}
