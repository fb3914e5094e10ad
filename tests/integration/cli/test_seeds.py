"""The seed cases from the core issue, pinned to the numbers PEFT 0.21.2 gives on the real models."""

from __future__ import annotations

import pytest

import lora_audit

QWEN = "Qwen/Qwen2.5-0.5B"
TUTORIAL_TARGETS = ["c_proj", "c_attn", "q_proj", "v_proj", "o_proj", "k_proj"]


def test_qwen_tutorial_targets_numbers_and_findings(cli, validate):
    result = cli(QWEN, "--targets", ",".join(TUTORIAL_TARGETS), "-r", "8", "--alpha", "16", "--format", "json")
    assert result.code == 1
    report = validate(result.out)
    assert report["params"]["trainable"] == 1_081_344
    assert report["params"]["total"] == 495_114_112
    assert report["params"]["base"] == 494_032_768
    assert report["model"]["source_kind"] == "catalogue"
    la001 = {f["subject"]: f for f in report["findings"] if f["code"] == "LA001"}
    assert set(la001) == {"c_proj", "c_attn"}
    assert all(f["severity"] == "error" for f in la001.values())
    assert "q_proj" in la001["c_attn"]["hint"] and "o_proj" in la001["c_proj"]["hint"]
    matched = {t["pattern"]: t["matched"] for t in report["targets"]}
    assert matched == {"c_proj": 0, "c_attn": 0, "q_proj": 24, "v_proj": 24, "o_proj": 24, "k_proj": 24}


def test_opt_350m_with_embedding_target():
    report = lora_audit.audit("facebook/opt-350m", {"r": 16, "target_modules": ["q_proj", "v_proj", "embed_tokens"]})
    assert report.params.base == 331_196_416
    assert report.params.trainable == 2_385_408
    assert report.params.total == 333_581_824
    embed = next(t for t in report.targets if t.pattern == "embed_tokens")
    assert embed.matched == 1 and embed.types == {"Embedding": 1}
    rows = {r.name: r for r in report.adapted_modules}
    assert rows["model.decoder.embed_tokens"].kind == "lora.Embedding"


def test_hyperclovax_all_linear_with_misspelt_modules_to_save():
    report = lora_audit.audit(
        "naver-hyperclovax/HyperCLOVAX-SEED-Text-Instruct-0.5B",
        {"r": 16, "lora_alpha": 32, "target_modules": "all-linear", "modules_to_save": ["lm_head", "embed_token"]},
    )
    assert report.params.trainable == 123_076_608
    saved = {s.pattern: s for s in report.modules_to_save}
    assert saved["lm_head"].modules == ["lm_head"]
    assert saved["embed_token"].matched == 0
    la003 = [f for f in report.findings if f.code == "LA003"]
    assert [f.subject for f in la003] == ["embed_token"]
    assert "embed_tokens" in la003[0].hint
    wrapped = {w.name: w.new_type for w in report.wrapped_modules}
    assert wrapped["lm_head"] == "ModulesToSaveWrapper"
    assert not report.ok


def test_whisper_large_v2_attention_pair():
    report = lora_audit.audit(
        "openai/whisper-large-v2", {"r": 32, "lora_alpha": 64, "target_modules": ["q_proj", "v_proj"]}
    )
    assert report.model.class_name == "WhisperForConditionalGeneration"
    assert report.params.trainable == 15_728_640
    assert report.params.total == 1_559_033_600
    assert report.params.trainable_percent == pytest.approx(1.0089, abs=1e-4)
    # 32 encoder layers x (self_attn) + 32 decoder layers x (self_attn + encoder_attn), q and v each
    assert next(t for t in report.targets if t.pattern == "q_proj").matched == 96
    assert report.ok


@pytest.mark.parametrize(
    "model_id, config",
    [
        (QWEN, {"r": 8, "lora_alpha": 16, "target_modules": TUTORIAL_TARGETS}),
        ("facebook/opt-350m", {"r": 16, "target_modules": ["q_proj", "v_proj", "embed_tokens"]}),
        ("naver-hyperclovax/HyperCLOVAX-SEED-Text-Instruct-0.5B",
         {"r": 16, "target_modules": "all-linear", "modules_to_save": ["lm_head", "embed_token"]}),
        # PEFT rewrites these v4 expert names into target_parameters and leaves the Linear namesakes alone
        ("deepseek-ai/DeepSeek-V3", {"target_modules": ["q_a_proj", "gate_proj", "up_proj", "down_proj"]}),
        ("mistralai/Mixtral-8x7B-v0.1", {"target_modules": "all-linear"}),
    ],
)
def test_reported_matches_are_what_peft_wrapped(model_id, config):
    report = lora_audit.audit(model_id, config)
    from_entries = {m for t in report.targets for m in t.modules}
    adapted = {r.name for r in report.adapted_modules}
    assert from_entries == adapted
    lora_total = sum(r.lora_params for r in report.adapted_modules)
    assert lora_total == report.params.trainable_breakdown["lora"]
    assert sum(report.params.trainable_breakdown.values()) == report.params.trainable
