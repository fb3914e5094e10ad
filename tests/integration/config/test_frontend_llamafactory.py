"""LLaMA-Factory's training YAML: published example configs, read as LLaMA-Factory 0.9.x reads them.

LLaMA-Factory itself does not install here (it pins its own transformers), so each test builds the
LoraConfig LLaMA-Factory's ``_setup_lora_tuning`` would build, by hand from its source, applies it
with plain PEFT on a meta-device model, and compares with the audit; the translations are pinned.
"""

from __future__ import annotations

import copy

import pytest
import yaml
from peft import LoraConfig, get_peft_model

from lora_audit import audit
from lora_audit.config.frontends import detect, llamafactory, translate
from lora_audit.config.loading import load_config_file
from lora_audit.config.lora_config import resolve_lora_config
from lora_audit.errors import AuditError
from tests.conftest import FIXTURES, MODELS

LF = FIXTURES / "llamafactory"
LLAMA3 = "meta-llama/Meta-Llama-3-8B"
QWEN2VL = "Qwen/Qwen2-VL-2B-Instruct"
ALL_LINEAR_LLAMA = ["down_proj", "gate_proj", "k_proj", "o_proj", "q_proj", "up_proj", "v_proj"]


def _meta_model(model_dir: str, auto: str):
    import torch
    import transformers

    config = transformers.AutoConfig.from_pretrained(MODELS / model_dir / "config.json")
    with torch.device("meta"):
        return getattr(transformers, auto).from_config(config)


def _peft_counts(model, config: LoraConfig) -> tuple[int, int]:
    peft_model = get_peft_model(model, copy.deepcopy(config))
    params = list(peft_model.parameters())
    return sum(p.numel() for p in params if p.requires_grad), sum(p.numel() for p in params)


@pytest.fixture(scope="module")
def llama3_counts():
    """PEFT's counts for the LoraConfig LLaMA-Factory builds from ``lora_rank: 8, lora_target: all`` on Llama-3-8B."""
    config = LoraConfig(task_type="CAUSAL_LM", r=8, lora_alpha=16, lora_dropout=0.0, target_modules=ALL_LINEAR_LLAMA,
                        use_rslora=False, use_dora=False, modules_to_save=None, inference_mode=False)
    return _peft_counts(_meta_model("meta-llama--Meta-Llama-3-8B", "AutoModelForCausalLM"), config)


# --------------------------------------------------------------------------- detection
@pytest.mark.parametrize("name", sorted(p.name for p in LF.glob("*.yaml")))
def test_every_fixture_is_detected_as_llamafactory(name):
    assert detect(load_config_file(LF / name).data) is llamafactory


def test_detection_needs_keys_only_llamafactory_has():
    assert llamafactory.detect({"model_name_or_path": "x", "lora_r": 8, "use_peft": True}) == 0
    assert llamafactory.detect({"base_model": "x", "lora_r": 8, "lora_target_linear": True}) == 0
    assert llamafactory.detect({"r": 8, "lora_alpha": 16, "target_modules": ["q_proj"]}) == 0
    assert llamafactory.detect({"lora_target": "all"}) > 0


# --------------------------------------------------------------------------- the examples
@pytest.mark.parametrize("name", ["llama3_lora_sft.yaml", "llama3_lora_sft_otfq.yaml",
                                  "loraplus_llama3_lora_sft.yaml"])
def test_llama3_all_linear_examples_equal_peft(name, llama3_counts):
    report = audit(LLAMA3, config_file=LF / name, offline=True)
    assert (report.params.trainable, report.params.total) == llama3_counts
    assert report.params.trainable == 20_971_520  # 32 layers x 8 x (8192+5120+5120+8192+3 x 18432)
    assert sorted(report.lora_config["target_modules"]) == ALL_LINEAR_LLAMA
    assert (report.lora_config["r"], report.lora_config["lora_alpha"], report.lora_config["lora_dropout"]) == (8, 16, 0)
    assert report.lora_config["task_type"] == "CAUSAL_LM"
    # The framework's own keys (dataset, template, learning_rate, loraplus_lr_ratio...) are not findings.
    assert report.unknown_config_fields == []
    assert report.lora_config_source.unknown_keys == {}
    assert report.lora_config_source.format == "llamafactory"
    assert report.lora_config_source.ignored_keys == []  # every key is one LLaMA-Factory accepts
    assert not any(f.code in ("LA025", "LA026") for f in report.findings)


def test_translation_steps_name_the_expansion():
    spec = resolve_lora_config(file=LF / "llama3_lora_sft.yaml")
    assert spec.translation.format == "llamafactory"
    assert spec.translation.model == "meta-llama/Meta-Llama-3-8B-Instruct"
    assert spec.translation.steps == ["lora_alpha unset -> lora_rank * 2 = 16"]
    report = audit(LLAMA3, config_file=LF / "llama3_lora_sft.yaml", offline=True)
    assert report.lora_config["lora_alpha"] == 16
    spec = resolve_lora_config(file=LF / "llama3_lora_sft.yaml")
    from lora_audit.config.lora_config import expand_for_model
    from lora_audit.model.build import build_meta_model
    from lora_audit.model.locate import resolve_model_source

    built = build_meta_model(resolve_model_source(LLAMA3, offline=True))
    expanded = expand_for_model(spec, built)
    assert expanded.translation.steps[-1] == (
        "lora_target all -> find_all_linear_modules: 7 names: down_proj, gate_proj, k_proj, o_proj, q_proj, up_proj, "
        "v_proj"
    )


def test_qlora_example_asks_for_bitsandbytes_4bit():
    spec = resolve_lora_config(file=LF / "llama3_lora_sft_otfq.yaml")
    assert spec.quantization_request == {
        "method": "bitsandbytes", "bits": 4,
        "source": f"{LF / 'llama3_lora_sft_otfq.yaml'}: quantization_bit, quantization_method: bnb",
    }
    assert resolve_lora_config(file=LF / "llama3_lora_sft.yaml").quantization_request is None
    report = audit(LLAMA3, config_file=LF / "llama3_lora_sft_otfq.yaml", offline=True)
    assert (report.quantization.method, report.quantization.bits) == ("bitsandbytes", 4)
    assert report.quantization.source.endswith(
        "llama3_lora_sft_otfq.yaml: quantization_bit, quantization_method: bnb")
    assert report.findings == []  # LoRA on bitsandbytes 4-bit: nothing PEFT refuses


def test_pissa_example_sets_pissa_init_with_its_iterations(llama3_counts):
    report = audit(LLAMA3, config_file=LF / "pissa_llama3_lora_sft.yaml", offline=True)
    assert report.lora_config["init_lora_weights"] == "pissa_niter_16"
    assert (report.params.trainable, report.params.total) == llama3_counts


def test_vlm_example_keeps_the_vision_tower_and_projector_frozen():
    """qwen2vl_lora_sft.yaml leaves freeze_vision_tower at LLaMA-Factory's default (true)."""
    report = audit(QWEN2VL, config_file=LF / "qwen2vl_lora_sft.yaml", offline=True)
    assert report.model.class_name == "Qwen2VLForConditionalGeneration"  # what LLaMA-Factory loads, not CausalLM
    # LLaMA-Factory hands PEFT the full path of every language-model projection (patch_target_modules).
    paths = [f"model.language_model.layers.{i}.{m}" for i in range(28) for m in (
        "self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
        "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj")]
    assert sorted(report.lora_config["target_modules"]) == sorted(paths)
    config = LoraConfig(task_type="CAUSAL_LM", r=8, lora_alpha=16, lora_dropout=0.0, target_modules=paths)
    expected = _peft_counts(_meta_model("Qwen--Qwen2-VL-2B-Instruct", "AutoModelForImageTextToText"), config)
    assert (report.params.trainable, report.params.total) == expected
    assert report.params.trainable == 9_232_384  # 28 layers x 8 x (3072+1792+1792+3072+3 x 10496)
    assert not any(".visual." in row.name for row in report.adapted_modules)
    # 196 deliberate one-module paths are not 196 "partial coverage" notes (LA022), nor anything else.
    assert report.findings == []
    assert any("patch_target_modules: 196 module paths" in s for s in report.lora_config_source.steps)


def test_vlm_with_the_vision_tower_unfrozen_adapts_its_linear_layers(tmp_path):
    data = yaml.safe_load((LF / "qwen2vl_lora_sft.yaml").read_text())
    data["freeze_vision_tower"] = False
    path = tmp_path / "unfrozen.yaml"
    path.write_text(yaml.safe_dump(data))
    report = audit(QWEN2VL, config_file=path, offline=True)
    targets = report.lora_config["target_modules"]
    # Vision blocks now take part; the merger (projector) and patch_embed (conflict key) still do not.
    assert any(t.startswith("model.visual.blocks.") for t in targets)
    assert not any("merger" in t or "patch_embed" in t for t in targets)
    model = _meta_model("Qwen--Qwen2-VL-2B-Instruct", "AutoModelForImageTextToText")
    expected = _peft_counts(model, LoraConfig(task_type="CAUSAL_LM", r=8, lora_alpha=16, target_modules=targets))
    assert (report.params.trainable, report.params.total) == expected
    assert report.params.trainable > 9_232_384
    # The tower trains because the file says so; one info finding says it, folded, not 128 paths long.
    [tower] = [f for f in report.findings if f.code == "LA029"]
    assert tower.severity == "info" and "model.visual.blocks.(0-31).attn.qkv" in tower.message
    assert len(tower.message) < 400


# --------------------------------------------------------------------------- the rules LLaMA-Factory applies
def _write(tmp_path, **data):
    path = tmp_path / "lf.yaml"
    path.write_text(yaml.safe_dump({"model_name_or_path": "x", "stage": "sft", **data}))
    return path


def test_explicit_targets_alpha_and_additional_target(tmp_path):
    path = _write(tmp_path, lora_rank=16, lora_alpha=32, lora_dropout=0.05, lora_target="q_proj, v_proj",
                  additional_target="embed_tokens,lm_head", use_rslora=True)
    fields = translate(load_config_file(path)).fields
    assert fields == {"r": 16, "lora_alpha": 32, "lora_dropout": 0.05,
                      "use_rslora": True, "use_dora": False, "modules_to_save": ["embed_tokens", "lm_head"],
                      "target_modules": ["q_proj", "v_proj"]}


def test_defaults_are_llamafactorys_not_pefts(tmp_path):
    fields = translate(load_config_file(_write(tmp_path))).fields
    assert (fields["r"], fields["lora_alpha"], fields["lora_dropout"]) == (8, 16, 0.0)
    assert "target_modules" not in fields  # lora_target: all, expanded on the model


@pytest.mark.parametrize("kind", ["full", "freeze"])
def test_other_finetuning_types_are_refused(tmp_path, kind):
    with pytest.raises(AuditError) as info:
        translate(load_config_file(_write(tmp_path, finetuning_type=kind)))
    assert info.value.code == "not-a-lora-config"
    assert f"finetuning_type: {kind} trains the model itself" in info.value.message


def test_oft_example_is_the_oftconfig_llamafactory_builds():
    """examples/extras/oft/llama3_oft_sft.yaml: OFTConfig(r=oft_rank 0, oft_block_size 32) on lora_target's modules."""
    from peft import OFTConfig

    report = audit(LLAMA3, config_file=LF / "llama3_oft_sft.yaml", offline=True)
    assert report.method.peft_type == "OFT"
    config = OFTConfig(task_type="CAUSAL_LM", r=0, oft_block_size=32, target_modules=ALL_LINEAR_LLAMA,
                       module_dropout=0.0, modules_to_save=None, inference_mode=False)
    direct = audit(LLAMA3, config, offline=True)  # the same OFTConfig given to the API: PEFT's own counts
    assert (report.params.trainable, report.params.total) == (direct.params.trainable, direct.params.total)
    assert report.params.trainable == 19_300_352
    assert sorted(report.lora_config["target_modules"]) == ALL_LINEAR_LLAMA
    assert any("oft_target: all is not read" in step for step in report.lora_config_source.steps)
    assert not any(f.code in ("LA025", "LA026") for f in report.findings)


def test_resuming_an_adapter_is_refused_with_what_to_audit_instead(tmp_path):
    with pytest.raises(AuditError) as info:
        translate(load_config_file(_write(tmp_path, adapter_name_or_path="saves/llama3/lora")))
    assert "resumes that saved adapter" in info.value.message
    assert "--config" in info.value.hint


def test_unknown_keys_are_reported_not_dropped(tmp_path):
    translation = translate(load_config_file(_write(tmp_path, lora_rnak=16, learning_rate=1e-4, dataset="x",
                                                    use_vllm=True)))
    assert translation.unknown_keys == {"lora_rnak": ["lora_rank"]}
    assert translation.ignored_keys == ["use_vllm"]  # not LLaMA-Factory's, nor LoRA-looking: listed
    assert "vllm_max_lora_rank" in llamafactory.KNOWN_KEYS  # LLaMA-Factory's own, though it says lora


def test_reward_stage_says_the_value_head_is_not_counted():
    translation = translate(load_config_file(LF / "llama3_lora_reward.yaml"))
    assert any("value head" in step for step in translation.steps)


def test_find_all_linear_modules_skips_forbidden_paths():
    model = _meta_model("Qwen--Qwen2-VL-2B-Instruct", "AutoModelForImageTextToText")
    frozen = llamafactory.find_all_linear_modules(model, "qwen2_vl", True)
    unfrozen = llamafactory.find_all_linear_modules(model, "qwen2_vl", False)
    assert frozen == ALL_LINEAR_LLAMA
    assert set(unfrozen) - set(frozen) == {"qkv", "proj", "fc1", "fc2"}  # vision blocks; the merger stays out


def test_cli_reads_a_llamafactory_file(cli):
    result = cli(LLAMA3, "--config", str(LF / "llama3_lora_sft.yaml"), "--offline", "--format", "json")
    assert result.code == 0, result.err
    assert result.json()["params"]["trainable"] == 20_971_520


def test_fixture_readme_names_every_llamafactory_fixture():
    readme = (FIXTURES / "README.md").read_text()
    for path in LF.glob("*.yaml"):
        assert path.name in readme


def test_findings_point_at_the_llamafactory_line(tmp_path):
    path = tmp_path / "lf.yaml"
    path.write_text("model_name_or_path: Qwen/Qwen2.5-0.5B\nstage: sft\nfinetuning_type: lora\nlora_rank: 8\n"
                    "lora_target: q_proj,c_attn\nlora_targt: v_proj\nlearning_rate: 1.0e-4\n")
    report = audit(None, config_file=path, offline=True)  # the model comes from model_name_or_path
    assert report.model.name == "Qwen/Qwen2.5-0.5B"
    found = {f.code: f for f in report.findings}
    assert found["LA001"].subject == "c_attn"
    assert (found["LA001"].location.line, found["LA026"].location.line) == (5, 6)
    assert "lora_target" in found["LA026"].hint
    assert set(found) == {"LA001", "LA026"}  # learning_rate, stage: LLaMA-Factory's own, not findings


def test_registry_tells_the_three_training_frameworks_apart():
    from lora_audit.config.frontends import BY_NAME

    for folder, name in (("llamafactory", "llamafactory"), ("trl", "trl"), ("axolotl", "axolotl")):
        for path in sorted((FIXTURES / folder).glob("*.y*ml")):
            assert detect(load_config_file(path).data) is BY_NAME[name], path.name


def test_terminal_folds_the_196_module_paths_into_seven_rows(cli):
    result = cli(QWEN2VL, "--config", str(LF / "qwen2vl_lora_sft.yaml"), "--offline")
    assert result.code == 0, result.err
    table = result.out.split("Target matches", 1)[1].split("Per-layer cost", 1)[0]
    rows = [line for line in table.splitlines() if "Linear x28" in line]
    assert len(rows) == 7
    assert any("model.language_model.layers.(0-27).self_attn.q_proj" in row and " 28 " in row for row in rows)
    markdown = cli(QWEN2VL, "--config", str(LF / "qwen2vl_lora_sft.yaml"), "--offline", "--format", "markdown")
    section = markdown.out.split("### Target matches", 1)[1].split("###", 1)[0]
    assert sum(line.startswith("| `model.language_model.layers.(0-27).") for line in section.splitlines()) == 7
