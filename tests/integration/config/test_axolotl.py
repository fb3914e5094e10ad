"""axolotl configs, copied verbatim from axolotl's examples, audited as axolotl trains them.

axolotl cannot be installed here (it pins its own torch and CUDA stack), so each case builds, in
this file and independently of lora_audit.frontends.axolotl, the LoraConfig that axolotl's
``_build_peft_lora_config`` builds (axolotl-ai-cloud/axolotl@067b021, src/axolotl/loaders/adapter.py),
applies plain PEFT ``get_peft_model`` to the meta model, and compares the counts with the audit.
"""

from __future__ import annotations

import pytest
import torch
import yaml
from peft import LoraConfig, get_peft_model
from transformers import AutoConfig, AutoModelForCausalLM, AutoModelForImageTextToText

import lora_audit
from lora_audit.errors import AuditError
from lora_audit.report import Location
from tests.conftest import FIXTURES, MODELS

AXOLOTL = FIXTURES / "axolotl"

# fixture: (MODEL given on the command line or None, the catalogue model built, trainable, total) -- measured
# with this file's reference build and plain PEFT, then pinned.
CASES = {
    "llama-2-lora.yml": ("meta-llama/Llama-2-7b-hf", "meta-llama/Llama-2-7b-hf", 79_953_920, 6_818_369_536),
    "mistral-mixtral-mixtral.yml": (None, "mistralai/Mixtral-8x7B-v0.1", 27_262_976, 46_730_055_680),
    "mistral-qlora.yml": (None, "mistralai/Mistral-7B-v0.1", 83_886_080, 7_325_618_176),
    "llama-3-lora-8b.yml": ("meta-llama/Meta-Llama-3-8B", "meta-llama/Meta-Llama-3-8B", 1_134_559_232,
                            9_164_820_480),
    "qwen2-vl-lora-7b.yaml": ("Qwen/Qwen2-VL-2B-Instruct", "Qwen/Qwen2-VL-2B-Instruct", 36_929_536,
                              2_245_915_136),
    "archived-falcon-config-7b-lora.yml": (None, "tiiuae/falcon-7b", 32_636_928, 6_954_357_632),
}


def _reference_model(model_id: str):
    config = AutoConfig.from_pretrained(MODELS / model_id.replace("/", "--"))
    vlm = "ForConditionalGeneration" in (config.architectures or [""])[0]
    with torch.device("meta"):
        return (AutoModelForImageTextToText if vlm else AutoModelForCausalLM).from_config(config)


def _axolotl_lora_config(cfg: dict, model) -> LoraConfig:
    """axolotl's _build_peft_lora_config, as read at the commit above (only the keys these examples use)."""
    targets = cfg.get("lora_target_modules") or []
    if cfg.get("lora_target_linear"):
        names = set()
        for name, module in model.named_modules():  # find_all_linear_names
            if isinstance(module, torch.nn.Linear) or "Linear" in type(module).__name__:
                names.add(name.split(".")[-1])
        names.discard("embed_out" if model.config.model_type == "gpt_neox" else "lm_head")
        targets = list(set((targets if isinstance(targets, list) else [targets]) + sorted(names)))
    task = "SEQ_CLS" if "SequenceClassification" in type(model).__name__ else "CAUSAL_LM"
    return LoraConfig(
        r=cfg["lora_r"], lora_alpha=cfg["lora_alpha"], target_modules=targets,
        target_parameters=cfg.get("lora_target_parameters") or [], lora_dropout=cfg.get("lora_dropout") or 0.0,
        modules_to_save=cfg.get("lora_modules_to_save") or None, bias="none", task_type=task,
    )


def _reference_counts(fixture: str, model_id: str) -> tuple[int, int]:
    cfg = yaml.safe_load((AXOLOTL / fixture).read_text())
    model = _reference_model(model_id)
    peft_model = get_peft_model(model, _axolotl_lora_config(cfg, model))
    return peft_model.get_nb_trainable_parameters()


@pytest.mark.slow
@pytest.mark.parametrize("fixture", sorted(CASES))
def test_counts_equal_peft_on_the_config_axolotl_builds(fixture, validate):
    model, built, trainable, total = CASES[fixture]
    ref_trainable, ref_total = _reference_counts(fixture, built)
    report = lora_audit.audit(model, config_file=AXOLOTL / fixture)
    assert (report.params.trainable, report.params.total) == (ref_trainable, ref_total)
    assert (report.params.trainable, report.params.total) == (trainable, total)
    assert report.lora_config_source.format == "axolotl"
    assert report.lora_config_source.model_from == ("file" if model is None else "argument")
    assert not report.lora_config_source.unknown_keys  # real examples: every LoRA key understood
    assert not [f for f in report.findings if f.code in ("LA019", "LA025")]  # never PEFT's defaults, no noise
    validate(report.to_dict())


# --------------------------------------------------------------------------- translation, pinned
def _translate(path):
    from lora_audit.config.frontends import translate
    from lora_audit.config.loading import load_config_file

    return translate(load_config_file(path))


def test_llama2_example_translates_as_axolotl_builds_it():
    t = _translate(AXOLOTL / "llama-2-lora.yml")
    assert t.format == "axolotl"
    assert t.fields == {"r": 32, "lora_alpha": 16, "lora_dropout": 0.05, "target_modules": [],
                        "target_parameters": [], "bias": "none"}
    assert (t.model, t.model_key, t.model_class) == ("NousResearch/Llama-2-7b-hf", "base_model", "LlamaForCausalLM")
    assert t.quantization == {"method": "bitsandbytes", "bits": 8,
                              "source": f"{AXOLOTL / 'llama-2-lora.yml'}: load_in_8bit"}
    assert t.all_linear_key == "lora_target_linear" and t.expand is not None
    assert {"sequence_len", "datasets", "learning_rate", "micro_batch_size"} <= set(t.ignored_keys)
    assert t.unknown_keys == {}
    assert t.key_lines["lora_target_linear"] == 27 and t.key_lines["lora_r"] == 24


def test_qlora_asks_for_4_bit_and_a_string_target_stays_a_regex():
    mixtral = _translate(AXOLOTL / "mistral-mixtral-mixtral.yml")
    assert mixtral.quantization["bits"] == 4
    assert mixtral.quantization["source"].endswith("load_in_4bit, adapter: qlora")
    assert mixtral.model_class is None  # AutoModelForCausalLM: the model's own architecture
    vlm = _translate(AXOLOTL / "qwen2-vl-lora-7b.yaml")
    regex = r"model.language_model.layers.[\d]+.(mlp|cross_attn|self_attn).(up|down|gate|q|k|v|o)_proj"
    assert vlm.fields["target_modules"] == regex
    assert vlm.quantization is None and vlm.expand is not None  # the task type still comes from the model


def test_linear_expansion_unites_the_list_and_drops_the_output_embedding():
    report = lora_audit.audit(None, config_file=FIXTURES / "lora" / "axolotl-qwen.yml")
    fields = report.lora_config_source.fields
    assert fields["target_modules"] == ["down_proj", "embed_tokens", "gate_proj", "k_proj", "o_proj", "q_proj",
                                        "up_proj", "v_proj"]
    assert fields["modules_to_save"] == ["lm_head"] and fields["task_type"] == "CAUSAL_LM"
    assert report.lora_config_source.steps[0].startswith("lora_target_linear -> 7 names: down_proj, gate_proj")
    assert "united with lora_target_modules (2) -> 8 names" in report.lora_config_source.steps
    plain = get_peft_model(_reference_model("Qwen/Qwen2.5-0.5B"), LoraConfig(
        r=16, lora_alpha=32, lora_dropout=0.05, target_modules=fields["target_modules"], modules_to_save=["lm_head"],
        bias="none", task_type="CAUSAL_LM"))
    assert (report.params.trainable, report.params.total) == plain.get_nb_trainable_parameters()


def test_not_a_lora_run_is_refused():
    from lora_audit.config.frontends import axolotl
    from lora_audit.config.loading import LoadedFile

    for data, words in (({"base_model": "x/y", "lora_r": 8}, "trains the full model"),
                        ({"base_model": "x/y", "adapter": "llama-adapter"}, "not LoRA"),
                        ({"base_model": "x/y", "adapter": "lora", "lora_alpha": 16}, "lora_r is not set")):
        with pytest.raises(AuditError, match=words):
            axolotl.translate(LoadedFile(path=FIXTURES / "x.yml", data=data, text=""))


# --------------------------------------------------------------------------- the model from the file
def test_model_comes_from_the_file_and_model_wins():
    typo = FIXTURES / "lora" / "axolotl-typo.yml"
    from_file = lora_audit.audit(None, config_file=typo)
    assert from_file.model.name == "Qwen/Qwen2.5-0.5B"
    assert from_file.lora_config_source.model_from == "file"
    given = lora_audit.audit("openai-community/gpt2", config_file=typo)
    assert given.model.model_type == "gpt2" and given.lora_config_source.model_from == "argument"


def test_unreachable_model_in_the_file_says_to_pass_model():
    with pytest.raises(AuditError) as info:
        lora_audit.audit(None, config_file=AXOLOTL / "llama-2-lora.yml", offline=True)
    assert "NousResearch/Llama-2-7b-hf" in info.value.message and "base_model" in info.value.message
    assert "pass the base model as MODEL" in info.value.hint


def test_no_model_anywhere():
    with pytest.raises(AuditError, match="names no base model") as info:
        lora_audit.audit(None, config_file=FIXTURES / "lora" / "qwen-attention.yaml")
    assert info.value.code == "model-missing"


# --------------------------------------------------------------------------- no noise, no silence; lines
def test_lora_looking_keys_warn_with_did_you_mean_and_point_at_their_line():
    report = lora_audit.audit(None, config_file=FIXTURES / "lora" / "axolotl-typo.yml")
    by_subject = {f.subject: f for f in report.findings}
    typo = by_subject["lora_target_moduels"]
    assert (typo.code, typo.severity) == ("LA026", "warning")
    assert "lora_target_modules" in typo.hint
    assert typo.location == Location(str(FIXTURES / "lora" / "axolotl-typo.yml"), 10)
    assert by_subject["peft_use_dora_typo"].code == "LA026"
    assert by_subject["c_attn"].code == "LA001" and by_subject["c_attn"].location.line == 16
    codes = {f.code for f in report.findings}
    assert "LA025" not in codes  # training keys are no findings
    assert set(report.lora_config_source.ignored_keys) == {"sequence_len", "micro_batch_size", "learning_rate"}


def test_peft_json_findings_point_at_lines():
    report = lora_audit.audit("Qwen/Qwen2.5-0.5B", config_file=FIXTURES / "lora" / "tutorial-gpt2-names.json")
    located = {f.subject: f.location for f in report.findings if f.code == "LA001"}
    assert set(located) == {"c_proj", "c_attn"}
    assert {loc.line for loc in located.values()} == {4}


def test_flags_have_no_file_location():
    report = lora_audit.audit(None, config_file=FIXTURES / "lora" / "axolotl-typo.yml",
                              overrides={"target_modules": ["q_proj", "c_attn"]})
    [finding] = [f for f in report.findings if f.subject == "c_attn"]
    assert finding.location is None


# --------------------------------------------------------------------------- saved adapters
def test_saved_adapter_audits_with_its_training_numbers():
    report = lora_audit.audit("Qwen/Qwen2.5-0.5B", config_file=FIXTURES / "lora" / "adapter")
    assert report.params.trainable == 540_672
    [info] = [f for f in report.findings if f.code == "LA027"]
    assert info.severity == "info" and "is_trainable=True" in info.message
    text = (FIXTURES / "lora" / "adapter" / "adapter_config.json").read_text().splitlines()
    assert info.location.file.endswith("adapter_config.json")
    assert '"inference_mode": true' in text[info.location.line - 1]
    assert report.lora_config_source.saved_for_inference is True
    assert report.lora_config["inference_mode"] is False


# --------------------------------------------------------------------------- the CLI
def test_cli_takes_a_lone_config_file_and_shows_the_translation(cli):
    result = cli(FIXTURES / "lora" / "axolotl-qwen.yml")
    assert result.code == 0, result.err
    assert "axolotl lora_target_linear -> 7 names: down_proj, gate_proj" in " ".join(result.out.split())
    assert "model from base_model: Qwen/Qwen2.5-0.5B" in " ".join(result.out.split())
    typo = cli(FIXTURES / "lora" / "axolotl-typo.yml", "--format", "json")
    document = typo.json()
    assert document["lora_config_source"]["format"] == "axolotl"
    lines = {f["subject"]: f["location"]["line"] for f in document["findings"] if f["location"]}
    assert lines["lora_target_moduels"] == 10
    text = cli(FIXTURES / "lora" / "axolotl-typo.yml")
    assert "axolotl-typo.yml:10: lora_target_moduels" in " ".join(text.out.split())


def test_cli_without_model_or_config(cli):
    result = cli("--fail-on", "never")
    assert result.code == 2 and "no model given" in result.err


def test_leaf_names_on_a_vlm_reach_whole_blocks_and_the_vision_tower():
    report = lora_audit.audit(None, config_file=FIXTURES / "lora" / "axolotl-qwen2-vl-linear.yml")
    steps = report.lora_config_source.steps[0]
    assert steps.startswith("lora_target_linear -> 13 names: 0, 2, down_proj, fc1, fc2")
    la029 = {f.subject: f for f in report.findings if f.code == "LA029"}
    assert la029["0"].severity == "warning" and "model.visual.blocks.0" in la029["0"].message
    assert la029["model.visual"].severity == "info" and "fc1, fc2, proj, qkv" in la029["model.visual"].message
    # axolotl hands PEFT the names '0' and '2', which match whole blocks: PEFT refuses them, as it would
    # in training. They are named (PEFT's reason, without the block's repr) and the rest is applied.
    la004 = {f.subject: f.message for f in report.findings if f.code == "LA004"}
    assert sorted(la004) == ["0", "2"]
    assert "Target module Qwen2VLVisionBlock is not supported" in la004["0"] and "(norm1)" not in la004["0"]
    assert report.applied and {t.pattern for t in report.targets if t.dropped} == {"0", "2"}
    # nothing describes an adaptation that did not happen: no layer of a refused entry is "adapted"
    assert not [f for f in report.findings if f.code == "LA051" and f.subject in ("0", "2")]
    from transformers import AutoModelForImageTextToText

    config = AutoConfig.from_pretrained(MODELS / "Qwen--Qwen2-VL-2B-Instruct")
    with torch.device("meta"):
        model = AutoModelForImageTextToText.from_config(config)
    rest = [t.pattern for t in report.targets if not t.dropped]
    plain = get_peft_model(model, LoraConfig(r=16, lora_alpha=32, target_modules=rest), low_cpu_mem_usage=True)
    assert (report.params.trainable, report.params.total) == plain.get_nb_trainable_parameters()
    assert report.params.trainable == 28_989_824


def test_model_type_picks_the_head_and_the_head_the_task_type(tmp_path):
    path = tmp_path / "reward.yml"
    path.write_text("base_model: Qwen/Qwen2.5-0.5B\nmodel_type: AutoModelForSequenceClassification\n"
                    "adapter: lora\nlora_r: 8\nlora_alpha: 16\nlora_target_modules: [q_proj, v_proj]\n")
    for model in (None, "Qwen/Qwen2.5-0.5B"):
        report = lora_audit.audit(model, config_file=path)
        assert report.model.class_name == "Qwen2ForSequenceClassification"
        assert report.lora_config["task_type"] == "SEQ_CLS"
    from transformers import AutoModelForSequenceClassification

    config = AutoConfig.from_pretrained(MODELS / "Qwen--Qwen2.5-0.5B")
    with torch.device("meta"):
        model = AutoModelForSequenceClassification.from_config(config)
    plain = get_peft_model(model, LoraConfig(r=8, lora_alpha=16, target_modules=["q_proj", "v_proj"], bias="none",
                                             task_type="SEQ_CLS"))
    assert (report.params.trainable, report.params.total) == plain.get_nb_trainable_parameters()


def test_every_lora_key_axolotl_reads_maps_to_its_loraconfig_field():
    from lora_audit.config.frontends import axolotl
    from lora_audit.config.loading import LoadedFile

    data = {"base_model": "Qwen/Qwen2.5-0.5B", "adapter": "lora", "lora_r": 8, "lora_alpha": 16, "lora_dropout": 0.1,
            "lora_target_modules": ["q_proj"], "lora_target_parameters": ["mlp.experts.down_proj"],
            "lora_modules_to_save": ["lm_head"], "lora_fan_in_fan_out": False, "peft_layers_to_transform": [0, 1],
            "peft_layers_pattern": ["layers"], "peft_use_dora": True, "peft_use_rslora": True,
            "lora_rank_pattern": {"q_proj": 4}, "lora_alpha_pattern": {"q_proj": 8},
            "peft_trainable_token_indices": [0, 1], "peft_ensure_weight_tying": True,
            "lora_exclude_modules": ["mlp.gate"], "lora_model_dir": None, "load_in_8bit": False}
    t = axolotl.translate(LoadedFile(path=FIXTURES / "x.yml", data=data, text=""))
    assert t.fields == {
        "r": 8, "lora_alpha": 16, "lora_dropout": 0.1, "target_modules": ["q_proj"],
        "target_parameters": ["mlp.experts.down_proj"], "modules_to_save": ["lm_head"], "fan_in_fan_out": False,
        "layers_to_transform": [0, 1], "layers_pattern": ["layers"], "use_dora": True, "use_rslora": True,
        "rank_pattern": {"q_proj": 4}, "alpha_pattern": {"q_proj": 8}, "trainable_token_indices": [0, 1],
        "ensure_weight_tying": True, "exclude_modules": ["mlp.gate"], "bias": "none"}
    assert t.sources["r"] == ["lora_r"] and t.sources["exclude_modules"] == ["lora_exclude_modules"]
    assert t.quantization is None and t.all_linear_key is None
