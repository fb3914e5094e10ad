"""The rule catalogue: each rule fires on a real architecture and stays quiet on a correct config for it.

Models are the bundled catalogue's real configs (fixtures/models); every case runs the full
pipeline (PEFT on the meta device), so a rule is tested on the facts PEFT actually produces.
"""

from __future__ import annotations

import pytest

import lora_audit
from lora_audit.request import MemoryRequest
from lora_audit.rules import BY_CODE, RULES
from lora_audit.rules.settings import Settings, parse_settings
from tests.conftest import FIXTURES, LORA

AXOLOTL = FIXTURES / "axolotl"

QWEN = "Qwen/Qwen2.5-0.5B"
HYPERCLOVAX = "naver-hyperclovax/HyperCLOVAX-SEED-Text-Instruct-0.5B"
BERT = "google-bert/bert-base-uncased"
GPT2 = "openai-community/gpt2"
MIXTRAL = "mistralai/Mixtral-8x7B-v0.1"
BERT_CLS = {"model_class": "BertForSequenceClassification"}
SDXL = "stabilityai/stable-diffusion-xl-base-1.0"
QUANT = FIXTURES / "quantized"
QLORA = {"quantization_request": {"method": "bitsandbytes", "bits": 4, "source": "qlora.yml: load_in_4bit"}}

# code: (model, lora config, audit kwargs, expected subject) -- fires
FIRES = {
    "LA001": (QWEN, {"target_modules": ["c_attn", "q_proj", "v_proj"]}, {}, "c_attn"),
    "LA002": ("microsoft/Phi-3-mini-4k-instruct", {}, {}, "target_modules"),
    "LA003": (HYPERCLOVAX, {"target_modules": "all-linear", "modules_to_save": ["lm_head", "embed_token"]}, {},
              "embed_token"),
    "LA004": (GPT2, {"target_modules": ["c_attn", "ln_1"], "fan_in_fan_out": True}, {}, "ln_1"),
    "LA005": (BERT, {"target_modules": ["query", "value"]}, BERT_CLS, "classifier"),
    "LA006": (QWEN, {"target_modules": ["q_proj", "k_proj"], "r": 128, "lora_alpha": 256}, {},
              "model.layers.(0-23).self_attn.k_proj"),
    "LA007": (QWEN, {"target_modules": ["q_proj", "k_proj"], "r": 256, "lora_alpha": 512}, {},
              "model.layers.(0-23).self_attn.k_proj"),
    "LA008": (HYPERCLOVAX, {"target_modules": "all-linear", "modules_to_save": ["lm_head"]}, {}, "lm_head"),
    "LA009": (HYPERCLOVAX, {"target_modules": "all-linear", "modules_to_save": ["lm_head"]}, {}, "modules_to_save"),
    "LA010": (GPT2, {"target_modules": ["c_attn"]}, {}, "transformer.h.(0-11).attn.c_attn"),
    "LA011": (QWEN, {"target_modules": ["q_proj"], "layers_to_transform": list(range(20, 32))}, {},
              "layers_to_transform"),
    "LA012": (QWEN, {"target_modules": ["q_proj", "v_proj"], "rank_pattern": {"qproj": 32}}, {}, "rank_pattern[qproj]"),
    "LA013": (QWEN, {"target_modules": "all-linear", "exclude_modules": ["mlp.gate_projj"]}, {}, "mlp.gate_projj"),
    "LA014": (BERT, {"target_modules": ["query", "value"], "bias": "all"}, {}, "bias"),
    "LA015": (QWEN, {"target_modules": ["q_proj", "embed_tokens"], "modules_to_save": ["embed_tokens"]}, {},
              "embed_tokens"),
    "LA016": (MIXTRAL, {"target_modules": ["q_proj", "experts.0.w1"]}, {}, "experts.0.w1"),
    "LA017": (MIXTRAL, {"target_modules": "all-linear"}, {}, "model.layers.(0-31).mlp.gate.weight"),
    "LA018": (QWEN, {"target_modules": ["q_proj", "v_proj"], "r": 64, "lora_alpha": 8}, {}, "scaling"),
    "LA019": (QWEN, {}, {}, "target_modules"),
    "LA020": (BERT, {"target_modules": ["query", "value"]}, BERT_CLS, "task_type"),
    "LA021": (MIXTRAL, {"target_modules": ["q_proj"], "target_parameters": ["mlp.experts.gate_up_proj"],
                        "use_dora": True}, {}, "mlp.experts.gate_up_proj"),
    "LA022": ("Qwen/Qwen2-VL-2B-Instruct", {"target_modules": ["q_proj", "v_proj"]}, {}, "q_proj"),
    "LA023": ("google-t5/t5-base", {"target_modules": ["relative_attention_bias"]}, {}, "encoder.block"),
    "LA024": ("meta-llama/Meta-Llama-3-8B", {"target_modules": ["q_proj"], "ensure_weight_tying": True}, {}, "peft"),
    "LA025": (QWEN, None, {"config_file": LORA / "newer-peft-adapter_config.json"}, "lora_shiny_new_option"),
    "LA026": (None, None, {"config_file": LORA / "axolotl-typo.yml"}, "lora_target_moduels"),
    "LA027": (QWEN, None, {"config_file": LORA / "adapter"}, "inference_mode"),
    "LA028": (None, None, {"config_file": AXOLOTL / "mistral-mixtral-mixtral.yml"}, "lora_target_linear"),
    "LA029": (None, None, {"config_file": LORA / "axolotl-qwen2-vl-linear.yml"}, "0"),
    "LA050": (SDXL, {"target_modules": ["to_k", "to_q", "to_v", "to_out.0", "q_proj", "v_proj"]}, {}, "q_proj"),
    # 'proj' is the vision blocks' attention output (Linear) and the patch embedding (Conv3d)
    "LA051": ("Qwen/Qwen2-VL-2B-Instruct", {"target_modules": ["qkv", "proj"]}, {}, "proj"),
    "LA060": (QWEN, {"target_modules": "all-linear"}, {"memory": MemoryRequest(batch=1, seq_len=256, gpus=("1GB",))},
              "1 GiB"),
    "LA030": (QUANT / "qwen2.5-0.5b-gptq-int4", {"target_modules": ["q_proj", "v_proj"], "use_dora": True}, {},
              "use_dora"),
    "LA031": (QUANT / "qwen2.5-0.5b-gptq-int4", {"target_modules": ["q_proj", "v_proj"]}, QLORA, "quantization"),
    "LA032": (QUANT / "qwen2.5-0.5b-bnb-int8-skip", {"target_modules": ["q_proj", "down_proj"]}, {},
              "model.layers.(0-23).mlp.down_proj"),
    "LA033": (QUANT / "qwen2.5-0.5b-fbgemm-fp8", {"target_modules": ["q_proj", "v_proj"]}, {}, "quantization"),
    "LA034": (QUANT / "qwen2.5-0.5b-quanto-int8", {"target_modules": ["q_proj", "v_proj"]}, {}, "quantization"),
}

# code: (model, correct lora config, audit kwargs) -- same model, quiet
QUIET = {
    "LA001": (QWEN, {"target_modules": ["q_proj", "v_proj"]}, {}),
    "LA002": ("microsoft/Phi-3-mini-4k-instruct", {"target_modules": ["qkv_proj", "o_proj"]}, {}),
    "LA003": (HYPERCLOVAX, {"target_modules": "all-linear", "modules_to_save": ["embed_tokens"]}, {}),
    "LA004": (GPT2, {"target_modules": ["c_attn"], "fan_in_fan_out": True}, {}),
    "LA005": (BERT, {"target_modules": ["query", "value"], "task_type": "SEQ_CLS"}, BERT_CLS),
    "LA006": (QWEN, {"target_modules": ["q_proj", "k_proj"], "r": 16, "lora_alpha": 32}, {}),
    "LA007": (QWEN, {"target_modules": ["q_proj", "k_proj"], "r": 16, "lora_alpha": 32}, {}),
    "LA008": (HYPERCLOVAX, {"target_modules": "all-linear"}, {}),
    "LA009": (HYPERCLOVAX, {"target_modules": "all-linear"}, {}),
    "LA010": (GPT2, {"target_modules": ["c_attn"], "fan_in_fan_out": True}, {}),
    "LA011": (QWEN, {"target_modules": ["q_proj"], "layers_to_transform": list(range(12)), "layers_pattern": "layers"},
              {}),
    "LA012": (QWEN, {"target_modules": ["q_proj", "v_proj"], "rank_pattern": {"q_proj": 32},
                     "alpha_pattern": {"q_proj": 64}}, {}),
    "LA013": (QWEN, {"target_modules": "all-linear", "exclude_modules": ["mlp.gate_proj"]}, {}),
    "LA014": (BERT, {"target_modules": ["query", "value"], "bias": "none"}, {}),
    "LA015": (QWEN, {"target_modules": ["q_proj"], "modules_to_save": ["embed_tokens"]}, {}),
    "LA016": (MIXTRAL, {"target_modules": ["q_proj", "v_proj"]}, {}),
    "LA017": (MIXTRAL, {"target_modules": ["q_proj", "v_proj"],
                        "target_parameters": ["mlp.experts.gate_up_proj", "mlp.experts.down_proj"]}, {}),
    "LA018": (QWEN, {"target_modules": ["q_proj", "v_proj"], "r": 8, "lora_alpha": 16}, {}),
    "LA019": (QWEN, {"target_modules": ["q_proj", "v_proj"]}, {}),
    "LA020": (BERT, {"target_modules": ["query", "value"], "task_type": "SEQ_CLS"}, BERT_CLS),
    "LA021": (MIXTRAL, {"target_modules": ["q_proj", "v_proj"], "use_dora": True}, {}),
    "LA022": ("Qwen/Qwen2-VL-2B-Instruct", {"target_modules": r".*\.(q_proj|v_proj|qkv)"}, {}),
    "LA023": ("google-t5/t5-base", {"target_modules": ["q", "v"]}, {}),
    "LA024": ("meta-llama/Meta-Llama-3-8B", {"target_modules": ["q_proj"]}, {}),
    "LA025": (QWEN, None, {"config_file": LORA / "adapter"}),
    "LA026": (None, None, {"config_file": LORA / "axolotl-qwen.yml"}),
    "LA027": (QWEN, None, {"config_file": LORA / "qwen-attention.yaml"}),
    # LA028's own fix: the same example with the fused experts named (and no dropout, as PEFT needs)
    "LA028": (None, None, {"config_file": AXOLOTL / "mistral-mixtral-mixtral.yml", "overrides": {
        "target_parameters": ["mlp.experts.gate_up_proj", "mlp.experts.down_proj"], "lora_dropout": 0.0}}),
    "LA029": ("Qwen/Qwen2-VL-2B-Instruct", None, {"config_file": AXOLOTL / "qwen2-vl-lora-7b.yaml"}),
    "LA050": (SDXL, None, {"config_file": LORA / "diffusers-sdxl-dreambooth.json"}),
    "LA051": ("Qwen/Qwen2-VL-2B-Instruct", {"target_modules": ["qkv", "attn.proj"]}, {}),
    "LA060": (QWEN, {"target_modules": "all-linear"}, {"memory": MemoryRequest(batch=1, seq_len=256, gpus=("24GB",))}),
    "LA030": (QUANT / "qwen2.5-0.5b-bnb-nf4", {"target_modules": ["q_proj", "v_proj"], "use_dora": True}, {}),
    "LA031": (QUANT / "qwen2.5-0.5b-bnb-nf4", {"target_modules": ["q_proj", "v_proj"]}, QLORA),
    "LA032": (QUANT / "qwen2.5-0.5b-bnb-int8-skip", {"target_modules": ["q_proj", "v_proj"]}, {}),
    "LA033": (QUANT / "qwen2.5-0.5b-gptq-int4", {"target_modules": ["q_proj", "v_proj"]}, {}),
    "LA034": (QUANT / "qwen2.5-0.5b-gptq-int4", {"target_modules": ["q_proj", "v_proj"]}, {}),
}


def test_every_rule_has_a_firing_and_a_quiet_case():
    from tests.integration.adapter.test_adapter import ADAPTER_FIRES

    # the saved-adapter rules need adapter files, which tests/integration/adapter/test_adapter.py saves with
    # PEFT at test time
    # (LA048: kohya files, made by tests/integration/adapter/test_kohya.py, which fires and quiets it)
    adapter = set(ADAPTER_FIRES) | {"LA048"}
    codes = {r.code for r in RULES}
    assert codes == set(FIRES) | adapter == set(QUIET) | adapter


@pytest.mark.slow  # 22 s: tests/unit/rules/ has each FIRES case on facts
@pytest.mark.parametrize("code", sorted(FIRES))
def test_rule_fires_on_a_real_architecture(code, validate):
    model, config, kwargs, subject = FIRES[code]
    report = lora_audit.audit(model, config, **kwargs)
    validate(report.to_dict())
    fired = [f for f in report.findings if f.code == code]
    assert fired, f"{code} did not fire: {[(f.code, f.subject) for f in report.findings]}"
    assert subject in [f.subject for f in fired]
    finding = next(f for f in fired if f.subject == subject)
    assert finding.message and finding.hint
    assert finding.name == BY_CODE[code].name


@pytest.mark.slow  # 13 s: tests/unit/rules/ has each QUIET case on facts
@pytest.mark.parametrize("code", sorted(QUIET))
def test_rule_is_quiet_on_a_correct_config(code):
    model, config, kwargs = QUIET[code]
    report = lora_audit.audit(model, config, **kwargs)
    assert [f for f in report.findings if f.code == code] == []


def test_hyperclovax_seed_reports_la003_la008_la009():
    report = lora_audit.audit(
        HYPERCLOVAX,
        {"r": 16, "lora_alpha": 32, "target_modules": "all-linear", "modules_to_save": ["lm_head", "embed_token"]},
    )
    assert {"LA003", "LA008", "LA009"} <= {f.code for f in report.findings}
    assert report.params.trainable == 123_076_608
    la009 = next(f for f in report.findings if f.code == "LA009")
    assert "92.0%" in la009.message


def test_bert_classifier_without_task_type_reports_la005():
    report = lora_audit.audit(BERT, {"target_modules": ["query", "value"]}, **BERT_CLS)
    la005 = [f for f in report.findings if f.code == "LA005"]
    assert [f.severity for f in la005] == ["error"] and "--task-type SEQ_CLS" in la005[0].hint


@pytest.mark.slow  # 3 s: tests/unit/rules/test_la016_fused_experts.py has the levels on facts
def test_la016_levels_on_real_moe_models():
    """Broken names are errors; names PEFT converts are info; Linear namesakes it then skips are warnings."""
    deepseek = lora_audit.audit("deepseek-ai/DeepSeek-V3", {"target_modules": ["gate_proj", "up_proj", "down_proj"]})
    levels = {(f.subject, f.severity) for f in deepseek.findings if f.code == "LA016"}
    assert ("gate_proj", "warning") in levels and ("gate_proj", "info") in levels
    warning = next(f for f in deepseek.findings if f.code == "LA016" and f.severity == "warning")
    assert "model.layers.(0-2).mlp.gate_proj" in warning.message and "NOT adapted" in warning.message
    all_linear = lora_audit.audit("deepseek-ai/DeepSeek-V3", {"target_modules": "all-linear"})
    warning = next(f for f in all_linear.findings if f.code == "LA016" and f.severity == "warning")
    assert "left 183 nn.Linear modules" in warning.message  # 3 dense MLPs + 58 shared experts, x3
    mixtral = lora_audit.audit(MIXTRAL, {"target_modules": ["q_proj", "w1"]})
    assert [(f.subject, f.severity) for f in mixtral.findings if f.code == "LA016"] == [("w1", "error")]
    per_expert = lora_audit.audit("Qwen/Qwen3-30B-A3B", {"target_modules": ["q_proj"],
                                                         "target_parameters": ["mlp.experts.gate_up_proj"]})
    info = [f for f in per_expert.findings if f.code == "LA016"]
    assert len(info) == 1 and info[0].severity == "info" and "128 experts x r=8" in info[0].message


@pytest.mark.slow
def test_no_error_findings_on_sensible_configs_for_every_catalogue_model():
    """The rules raise no false alarms: PEFT's defaults, or the usual attention targets where PEFT has none."""
    from lora_audit.model import catalogue

    usual = {
        "Qwen/Qwen2-VL-2B-Instruct": {"target_modules": ["q_proj", "v_proj"]},
        "Qwen/Qwen3-30B-A3B": {"target_modules": ["q_proj", "k_proj", "v_proj", "o_proj"]},
        "deepseek-ai/DeepSeek-V3": {"target_modules": ["q_a_proj", "q_b_proj", "kv_a_proj_with_mqa", "kv_b_proj",
                                                       "o_proj"]},
        "google/vit-base-patch16-224": {"target_modules": ["q_proj", "v_proj"], "modules_to_save": ["classifier"]},
        "microsoft/Phi-3-mini-4k-instruct": {"target_modules": ["qkv_proj", "o_proj"]},
        "openai/whisper-large-v2": {"target_modules": ["q_proj", "v_proj"]},
        "mistralai/Mixtral-8x7B-v0.1": {"target_modules": ["q_proj", "v_proj"]},
        # diffusion denoisers: PEFT has no default; diffusers' training scripts' attention targets
        SDXL: {"target_modules": ["to_k", "to_q", "to_v", "to_out.0"]},
        "stable-diffusion-v1-5/stable-diffusion-v1-5": {"target_modules": ["to_k", "to_q", "to_v", "to_out.0"]},
        "black-forest-labs/FLUX.1-dev": {"target_modules": ["to_k", "to_q", "to_v", "to_out.0"]},
        "stabilityai/stable-diffusion-3.5-large": {"target_modules": ["to_k", "to_q", "to_v", "to_out.0"]},
        "Wan-AI/Wan2.1-T2V-1.3B-Diffusers": {"target_modules": ["to_k", "to_q", "to_v", "to_out.0"]},
    }
    for model_id in catalogue.model_ids():
        report = lora_audit.audit(model_id, usual.get(model_id, {}))
        errors = [(f.code, f.subject) for f in report.findings if f.severity == "error"]
        assert report.applied and errors == [], (model_id, errors)


def test_severity_override_options_and_suppression_from_settings():
    settings = parse_settings({
        "severity": {"LA009": "error"},
        "options": {"LA009": {"max-share": 0.99}},
        "ignore": {"LA008:lm_head": "we untie on purpose"},
    })
    config = {"target_modules": "all-linear", "modules_to_save": ["lm_head"]}
    report = lora_audit.audit(HYPERCLOVAX, config, settings=settings)
    assert "LA009" not in {f.code for f in report.findings}  # 95.8% (r=8) is under the 99% threshold
    la008 = next(f for f in report.findings if f.code == "LA008")
    assert la008.suppressed and la008.suppression_reason == "we untie on purpose"
    strict = lora_audit.audit(HYPERCLOVAX, config, settings=parse_settings({"severity": {"LA009": "error"}}))
    assert next(f for f in strict.findings if f.code == "LA009").severity == "error"
    assert not strict.ok


def test_select_runs_only_named_rules_by_code_or_name():
    settings = Settings(select=["LA003", "LA009"])
    report = lora_audit.audit(
        HYPERCLOVAX, {"target_modules": "all-linear", "modules_to_save": ["lm_head", "embed_token"]}, settings=settings
    )
    assert {f.code for f in report.findings} == {"LA003", "LA009"}
    assert parse_settings({"select": ["tied-weight-copied"]}).select == ["LA008"]


def test_coverage_matrix_in_the_json():
    report = lora_audit.audit("Qwen/Qwen2-VL-2B-Instruct", {"target_modules": ["q_proj", "qkv"]})
    data = report.to_dict()["coverage"]
    vision = [b for b in data if b["container"] == "model.visual.blocks"]
    language = [b for b in data if b["container"] == "model.language_model.layers"]
    assert len(vision) == 32 and len(language) == 28
    assert all(b["adapted"] == {"q_proj": 0, "qkv": 1} for b in vision)
    assert all(b["adapted"] == {"q_proj": 1, "qkv": 0} for b in language)


def test_text_encoder_names_on_a_denoiser_get_la050_not_la001():
    report = lora_audit.audit(SDXL, {"target_modules": ["to_k", "q_proj", "text_model.encoder.layers.0.mlp.fc1"]})
    assert sorted(f.subject for f in report.findings if f.code == "LA050") == [
        "q_proj", "text_model.encoder.layers.0.mlp.fc1"
    ]
    assert [f for f in report.findings if f.code == "LA001"] == []
    # on a transformers model the same name is an ordinary LA001 (nothing to do with text encoders)
    qwen = lora_audit.audit(QWEN, {"target_modules": ["q_proj", "fc1"]})
    assert [f.code for f in qwen.findings if f.subject == "fc1"] == ["LA001"]


def test_la006_la007_use_a_convolutions_kernel_for_k():
    # conv_in of the tiny UNet is Conv2d(4, 32, 3x3): its LoRA A is a 3x3 conv, so k = 4·3·3 = 36
    # and the rank limit is min(36, 32) = 32, not min(4, 32) = 4.
    unet = FIXTURES / "tiny" / "unet"
    quiet = lora_audit.audit(unet, {"target_modules": ["conv_in"], "r": 8})
    assert [row.kernel_size for row in quiet.adapted_modules] == [[3, 3]]
    assert not [f for f in quiet.findings if f.code in {"LA006", "LA007"}]
    over = lora_audit.audit(unet, {"target_modules": ["conv_in"], "r": 64})
    la007 = next(f for f in over.findings if f.code == "LA007")
    assert "min(d, k) = 32 (k=4×3×3, d=32)" in la007.message


@pytest.mark.slow  # 3 s: tests/unit/rules/test_la022_partial_coverage.py has it on facts
def test_la022_ignores_blocks_without_attention_for_attention_targets():
    # SDXL: down_blocks.0, up_blocks.2 and mid_block.resnets hold no attention, so diffusers'
    # dreambooth targets (to_k, to_q, to_v, to_out.0) miss nothing there.
    sdxl = lora_audit.audit(SDXL, config_file=LORA / "diffusers-sdxl-dreambooth.json")
    assert not [f for f in sdxl.findings if f.code == "LA022"]
    # Flux: the single-stream blocks have attention but no ff: a real gap, still reported.
    flux = lora_audit.audit("black-forest-labs/FLUX.1-dev", {"target_modules": ["to_q", "ff.net.0.proj"]})
    gaps = [f for f in flux.findings if f.code == "LA022"]
    assert [f.subject for f in gaps] == ["ff.net.0.proj"]
    assert "not in single_transformer_blocks" in gaps[0].message


def test_la022_ignores_attention_of_the_same_class_built_without_the_projection():
    # diffusers' Flux dreambooth defaults: the single-stream blocks' FluxAttention has no add_*_proj or
    # to_out, so those entries miss nothing there; their feed-forward is another kind of block (proj_mlp),
    # which the ff entries do not reach: still reported.
    flux = lora_audit.audit("black-forest-labs/FLUX.1-dev", config_file=LORA / "diffusers-flux-dreambooth.json")
    assert sorted(f.subject for f in flux.findings if f.code == "LA022") == [
        "ff.net.0.proj", "ff.net.2", "ff_context.net.0.proj", "ff_context.net.2"]
