"""The hub: no network fails fast and falls back to the catalogue; offline means offline; every
request has a deadline."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
import transformers

import lora_audit
from tests.integration.hostile.helpers import (
    QWEN,
    TINY_QWEN_CONFIG,
    assert_bad_input,
    write,
)


# --------------------------------------------------------------------------- no network: fail fast, then the catalogue
def test_a_hub_that_hangs_costs_one_request_and_the_timeout(cli, validate, fake_hub, monkeypatch):
    fake_hub.stall_seconds = 10
    monkeypatch.setenv("HF_HUB_ETAG_TIMEOUT", "1")
    started = time.monotonic()
    result = cli(QWEN, "--targets", "q_proj", "--format", "json")
    assert result.code == 0, result.err
    assert validate(result.out)["model"]["source_kind"] == "catalogue"
    assert_bad_input(cli, validate, ["someone/not-bundled"], "hub-unreachable", "HF_ENDPOINT")
    assert time.monotonic() - started < 8, "three runs, each at most one 1-second timeout: no retries"
    assert len(fake_hub.requested_files) == 3  # one for the catalogue model, one for each of the two error runs


def test_an_overloaded_hub_is_asked_once(cli, validate, fake_hub):
    fake_hub.fail_with = 503
    assert_bad_input(cli, validate, ["someone/not-bundled"], "hub-unreachable")
    assert len(fake_hub.requested_files) == 2  # the terminal run and the --format json run, one request each


def test_no_network_falls_back_to_the_catalogue(cli, validate, fake_hub, monkeypatch):
    import huggingface_hub.constants as hub_constants

    dead = "http://127.0.0.1:9"  # nothing listens on the discard port: connection refused
    monkeypatch.setattr(hub_constants, "ENDPOINT", dead)
    monkeypatch.setattr(hub_constants, "HUGGINGFACE_CO_URL_TEMPLATE", dead + "/{repo_id}/resolve/{revision}/{filename}")
    result = cli(QWEN, "--targets", "q_proj", "--format", "json")
    assert result.code == 0
    assert "unreachable" in validate(result.out)["model"]["source"]
    assert_bad_input(cli, validate, ["someone/not-bundled"], "hub-unreachable")


def test_offline_never_contacts_the_hub(cli, validate, fake_hub, monkeypatch):
    import huggingface_hub.constants as hub_constants

    fake_hub.add("someone/tiny", TINY_QWEN_CONFIG)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(hub_constants, "HF_HUB_OFFLINE", True)
    assert cli(QWEN, "--targets", "q_proj").code == 0  # from the catalogue
    assert_bad_input(cli, validate, ["someone/tiny"], "offline-not-cached")
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    assert_bad_input(cli, validate, ["someone/tiny", "--offline"], "offline-not-cached")
    assert fake_hub.requests == []


# ----- the hub: offline means offline, and every request has a deadline
def _detr_with_a_hub_backbone(folder: Path) -> Path:
    """A DETR config whose backbone is a hub id: transformers asks the hub about it while loading the config."""
    config = transformers.DetrConfig().to_dict()
    config.update(backbone="someone/resnet-backbone", backbone_config=None, use_timm_backbone=False,
                  use_pretrained_backbone=False)
    write(folder / "config.json", json.dumps(config))
    return folder


def test_offline_flag_stops_transformers_fetching_what_a_config_names(cli, validate, fake_hub, tmp_path):
    model = _detr_with_a_hub_backbone(tmp_path / "detr")
    cli(model, "--targets", "q_proj")
    assert any("resnet-backbone" in path for _, path in fake_hub.requests), "the case no longer reaches the hub"
    fake_hub.requests.clear()
    assert_bad_input(cli, validate, [model, "--targets", "q_proj", "--offline"], "offline-not-cached",
                     "another hub repository")
    assert fake_hub.requests == []


def test_offline_in_the_api_stops_transformers_fetching_and_is_restored(fake_hub, tmp_path):
    import huggingface_hub.constants as hub_constants

    model = _detr_with_a_hub_backbone(tmp_path / "detr")
    with pytest.raises(lora_audit.AuditError) as info:
        lora_audit.audit(model, {"target_modules": ["q_proj"]}, offline=True)
    assert info.value.code == "offline-not-cached"
    assert fake_hub.requests == []
    assert hub_constants.HF_HUB_OFFLINE is False and os.environ["HF_HUB_OFFLINE"] == "0"


@pytest.mark.parametrize("behaviour", [
    "never answers", pytest.param("trickles a byte every half second", marks=pytest.mark.slow)])
def test_a_hub_request_has_a_total_deadline(cli, validate, fake_hub, monkeypatch, behaviour):
    if behaviour == "never answers":
        fake_hub.stall_seconds = 60
    else:
        fake_hub.trickle_seconds = 0.5  # never 1 s without a byte: the per-read timeout never trips
    monkeypatch.setenv("HF_HUB_ETAG_TIMEOUT", "1")
    monkeypatch.setenv("LORA_AUDIT_HUB_DEADLINE", "2")
    started = time.monotonic()
    result = cli(QWEN, "--targets", "q_proj", "--format", "json")
    assert result.code == 0, result.err
    assert validate(result.out)["model"]["source_kind"] == "catalogue"  # the bundled copy, as when unreachable
    assert_bad_input(cli, validate, ["someone/not-bundled"], "hub-unreachable")
    assert time.monotonic() - started < 15, "three runs, each bounded by the 2-second deadline"


@pytest.mark.parametrize("status", [403, 404])
def test_a_mirror_that_refuses_a_bundled_model_falls_back_to_the_catalogue(cli, validate, fake_hub, status):
    fake_hub.fail_with = status
    result = cli(QWEN, "--targets", "q_proj", "--format", "json")
    assert result.code == 0, result.err
    assert validate(result.out)["model"]["source_kind"] == "catalogue"


def test_a_bundled_model_missing_on_a_mirror_falls_back_to_the_catalogue(cli, validate, fake_hub):
    result = cli(QWEN, "--targets", "q_proj", "--format", "json")  # the fake hub has no such repository
    assert result.code == 0, result.err
    assert validate(result.out)["model"]["source_kind"] == "catalogue"
    assert_bad_input(cli, validate, ["someone/not-bundled"], "model-not-found")
