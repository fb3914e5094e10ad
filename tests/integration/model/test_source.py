"""Stage 1a: where config.json comes from (local path, HF cache, hub, bundled catalogue)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lora_audit.errors import AuditError
from lora_audit.model.locate import resolve_model_source
from tests.conftest import MODELS, TINY

QWEN_CONFIG = json.loads((MODELS / "Qwen--Qwen2.5-0.5B" / "config.json").read_text())


def _error(spec, **kwargs) -> AuditError:
    with pytest.raises(AuditError) as info:
        resolve_model_source(spec, **kwargs)
    return info.value


def test_local_directory_and_file():
    directory = MODELS / "Qwen--Qwen2.5-0.5B"
    src = resolve_model_source(str(directory))
    assert (src.kind, src.config["model_type"]) == ("local-dir", "qwen2")
    src = resolve_model_source(str(directory / "config.json"))
    assert src.kind == "local-file"


@pytest.mark.parametrize(
    "setup, code",
    [
        (lambda d: d, "no-config-json"),
        (lambda d: _write(d / "model.safetensors", "x"), "weights-file"),
        (lambda d: _write(d / "config.json", "{not json"), "config-malformed"),
        (lambda d: _write(d / "config.json", "[1, 2]"), "config-malformed"),
        (lambda d: _write(d / "config.json", '{"hidden_size": 8}'), "config-no-model-type"),
    ],
)
def test_bad_local_inputs(tmp_path, setup, code):
    assert _error(str(setup(tmp_path))).code == code


def test_missing_path_is_not_mistaken_for_a_hub_id(tmp_path):
    assert _error(str(tmp_path / "nope")).code == "path-not-found"
    assert _error("./models/llama").code == "path-not-found"
    assert _error("a/b/c").code == "path-not-found"


def test_offline_hub_id_falls_back_to_catalogue():
    src = resolve_model_source("Qwen/Qwen2.5-0.5B")  # tests run with HF_HUB_OFFLINE=1
    assert src.kind == "catalogue"
    assert "offline" in src.description and src.repo_id == "Qwen/Qwen2.5-0.5B"


def test_offline_unknown_id_says_what_to_do():
    err = _error("someone/unknown-model")
    assert err.code == "offline-not-cached" and "HF_HUB_OFFLINE" in err.hint


def test_catalogue_has_no_other_revisions():
    assert "main revision" in _error("Qwen/Qwen2.5-0.5B", revision="v1.0").message


def test_hf_cache_is_used_before_anything_else(monkeypatch, tmp_path):
    import huggingface_hub.constants as hub_constants

    commit = "a" * 40
    repo = tmp_path / "models--someone--cached-model"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)
    _write(repo / "snapshots" / commit / "config.json", json.dumps(QWEN_CONFIG))
    monkeypatch.setattr(hub_constants, "HF_HUB_CACHE", str(tmp_path))
    src = resolve_model_source("someone/cached-model")
    assert src.kind == "hf-cache" and src.config["model_type"] == "qwen2"


def test_download_requests_only_config_json(fake_hub):
    fake_hub.add("someone/tiny", QWEN_CONFIG)
    src = resolve_model_source("someone/tiny")
    assert src.kind == "hub" and src.config == QWEN_CONFIG
    assert set(fake_hub.requested_files) == {"config.json"}
    assert all(path.startswith("/api/") for path in fake_hub.other_requests)  # client metadata, not files


def test_revision_is_passed_to_the_hub(fake_hub):
    fake_hub.add("someone/tiny", QWEN_CONFIG, revisions=("main", "v2"))
    resolve_model_source("someone/tiny", revision="v2")
    assert all("/resolve/v2/" in path for _, path in fake_hub.requests)
    assert _error("someone/tiny", revision="nope").code == "revision-not-found"


def test_missing_and_private_repos(fake_hub):
    fake_hub.add("someone/private", QWEN_CONFIG, private=True)
    fake_hub.add("someone/no-config", None, files={"README.md": b"hi"})
    for spec in ("someone/does-not-exist", "someone/private"):
        err = _error(spec)
        assert err.code == "model-not-found" and "private" in err.message
    assert _error("someone/no-config").code == "no-config-json"


def test_gated_repo_uses_catalogue_or_explains(fake_hub):
    fake_hub.add("meta-llama/Meta-Llama-3-8B", QWEN_CONFIG, gated=True)
    fake_hub.add("someone/gated", QWEN_CONFIG, gated=True)
    src = resolve_model_source("meta-llama/Meta-Llama-3-8B")
    assert src.kind == "catalogue" and "gated" in src.description
    assert src.config["model_type"] == "llama"
    err = _error("someone/gated")
    assert err.code == "gated-repo" and "licence" in err.message


def test_overloaded_hub_is_asked_once_then_falls_back(fake_hub):
    """huggingface_hub retries a 5xx hub for ~20 s; lora-audit asks once, then uses the catalogue."""
    fake_hub.fail_with = 503
    src = resolve_model_source("Qwen/Qwen2.5-0.5B")
    assert src.kind == "catalogue" and "unreachable" in src.description
    assert len(fake_hub.requests) == 1
    assert _error("someone/not-bundled").code == "hub-unreachable"


def test_unreachable_hub_falls_back_to_catalogue(fake_hub, monkeypatch):
    import huggingface_hub.constants as hub_constants

    dead = "http://127.0.0.1:9"  # nothing listens on the discard port: connection refused
    monkeypatch.setattr(hub_constants, "ENDPOINT", dead)
    monkeypatch.setattr(hub_constants, "HUGGINGFACE_CO_URL_TEMPLATE", dead + "/{repo_id}/resolve/{revision}/{filename}")
    src = resolve_model_source("Qwen/Qwen2.5-0.5B")
    assert src.kind == "catalogue" and "unreachable" in src.description
    assert _error("someone/not-bundled").code == "hub-unreachable"


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


# --------------------------------------------------------------------------- sentence-transformers on the hub
def _bert(architectures):
    config = json.loads((TINY / "bert-cls" / "config.json").read_text())
    config["architectures"] = architectures
    config.pop("id2label", None), config.pop("label2id", None)
    return config


ST_MODULES = [
    {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
    {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
]


def test_hub_sentence_transformers_repo_audits_its_transformer_module(fake_hub, tmp_path):
    import lora_audit

    fake_hub.add("someone/st-mlm", _bert(["BertForMaskedLM"]),
                 files={"modules.json": json.dumps(ST_MODULES).encode(), "model.safetensors": b"weights"})
    report = lora_audit.audit("someone/st-mlm", {"target_modules": ["query", "value"]})
    assert (report.model.library, report.model.class_name) == ("sentence-transformers", "BertModel")
    assert set(fake_hub.requested_files) == {"config.json", "modules.json"}
    # the same counts as the same files in a local directory (the sentence-transformers layout)
    (tmp_path / "config.json").write_text(json.dumps(_bert(["BertForMaskedLM"])))
    (tmp_path / "modules.json").write_text(json.dumps(ST_MODULES))
    local = lora_audit.audit(tmp_path, {"target_modules": ["query", "value"]})
    assert (report.model.base_params, report.params.trainable) == (local.model.base_params, local.params.trainable)
    # and not what the config alone would build (BertForMaskedLM has the MLM head)
    plain = lora_audit.audit(tmp_path / "config.json", {"target_modules": ["query", "value"]})
    assert plain.model.class_name == "BertForMaskedLM" and plain.model.base_params != report.model.base_params


def test_hub_sentence_transformers_module_in_a_subfolder(fake_hub):
    modules = [dict(ST_MODULES[0], path="0_Transformer"), ST_MODULES[1]]
    fake_hub.add("someone/st-old", _bert(["BertForMaskedLM"]), files={
        "modules.json": json.dumps(modules).encode(),
        "0_Transformer/config.json": json.dumps(_bert(["BertModel"])).encode(),
    })
    src = resolve_model_source("someone/st-old")
    assert (src.library_hint, src.component, src.kind) == ("sentence-transformers", "0_Transformer", "hub")
    assert set(fake_hub.requested_files) == {"config.json", "modules.json", "0_Transformer/config.json"}


def test_hub_encoder_without_modules_json_or_transformer_module_stays_a_transformers_model(fake_hub):
    fake_hub.add("someone/bert", _bert(["BertForMaskedLM"]))
    src = resolve_model_source("someone/bert")
    assert src.library_hint is None and src.config["architectures"] == ["BertForMaskedLM"]
    assert set(fake_hub.requested_files) == {"config.json", "modules.json"}  # one small request more, a 404
    clip_like = [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.CLIPModel"}]
    fake_hub.add("someone/clip-st", _bert(["BertModel"]), files={"modules.json": json.dumps(clip_like).encode()})
    assert resolve_model_source("someone/clip-st").library_hint is None
