"""Every bundled model builds on meta and audits with PEFT's default targets, without crashing."""

from __future__ import annotations

import json

import pytest

import lora_audit
from lora_audit.model import catalogue
from lora_audit.model.catalogue import listing
from tests.conftest import MODELS, catalogue_dirs

#: model types for which PEFT 0.21.2 has no default target_modules (or, for mixtral, drops them).
NO_DEFAULTS = {"qwen2_vl", "qwen3_moe", "deepseek_v3", "vit", "phi3", "whisper", "mixtral"}


@pytest.mark.slow
@pytest.mark.parametrize("directory", catalogue_dirs())
def test_every_catalogue_model_audits_with_default_targets(directory, validate):
    model_id = directory.replace("--", "/", 1)
    report = lora_audit.audit(model_id, {})
    validate(report.to_dict())
    assert report.model.source_kind == "catalogue"
    # lora-audit models lists the README's measured parameters: they are what the audit builds
    listed = {e.model_id: e.params for e in listing.entries()}
    assert report.model.base_params == listed[model_id] > 0
    assert report.targets[0].kind == "defaults"
    if report.model.model_type in NO_DEFAULTS:
        assert not report.applied
        assert [f.code for f in report.findings if f.severity == "error"] == ["LA002"]
    else:
        assert report.applied and report.adapted_modules
        assert report.params.trainable == report.params.trainable_breakdown["lora"] > 0


def test_catalogue_ids_and_legacy_names():
    ids = catalogue.model_ids()
    assert len(catalogue_dirs()) == 22
    pipelines = [i for i in ids if catalogue.find(i).name == "model_index.json"]  # diffusers pipelines
    assert pipelines == ["Wan-AI/Wan2.1-T2V-1.3B-Diffusers", "black-forest-labs/FLUX.1-dev",
                         "stabilityai/stable-diffusion-3.5-large", "stabilityai/stable-diffusion-xl-base-1.0",
                         "stable-diffusion-v1-5/stable-diffusion-v1-5"]
    assert len(ids) == 22 + 5
    assert catalogue.find("qwen/qwen2.5-0.5b") == (MODELS / "Qwen--Qwen2.5-0.5B" / "config.json").resolve()
    assert catalogue.find("gpt2") == (MODELS / "openai-community--gpt2" / "config.json").resolve()
    assert catalogue.find("no/such-model") is None


def test_catalogue_configs_are_the_shared_originals():
    shared = MODELS.parent.parent.parent / "shared" / "model-configs"
    if not shared.is_dir():
        pytest.skip("../shared/model-configs is not beside this checkout")
    for directory in catalogue_dirs():
        ours = json.loads((MODELS / directory / "config.json").read_text())
        theirs = json.loads((shared / directory / "config.json").read_text())
        assert ours == theirs, directory


@pytest.mark.slow
def test_lora_audit_models_lists_what_the_audit_builds_for_every_pipeline():
    for entry in listing.entries():
        if entry.library == "diffusers":
            report = lora_audit.audit(entry.model_id, {"target_modules": ["to_q"]}, offline=True)
            assert report.model.base_params == entry.params, entry.model_id
