"""The hub deadline holds for a saved adapter as for a model: a hub that trickles bytes cannot keep
``adapter_config.json`` or the adapter's safetensors header past ``LORA_AUDIT_HUB_DEADLINE``.

huggingface_hub's own timeouts are per read; the fake hub sends one byte every half second, so a
one-second read timeout never trips and, without the total deadline, each request would take five
minutes (600 bytes).
"""

from __future__ import annotations

import json
import time

import pytest

from tests.conftest import MODELS

QWEN = MODELS / "Qwen--Qwen2.5-0.5B"
ADAPTER_CONFIG = json.dumps({"peft_type": "LORA", "r": 4, "lora_alpha": 8, "target_modules": ["q_proj"]}).encode()


@pytest.mark.parametrize(
    "requested",
    [
        "adapter_config.json",  # the config's HEAD trickles
        "adapter_model.safetensors",  # the config comes in full; the header's range request trickles
    ],
)
def test_a_trickling_hub_cannot_hold_an_adapter_fetch_past_the_deadline(cli, fake_hub, monkeypatch, requested):
    fake_hub.add("someone/lora", files={"adapter_config.json": ADAPTER_CONFIG,
                                        "adapter_model.safetensors": b"never sent"})
    fake_hub.trickle_seconds, fake_hub.trickle_files = 0.5, (requested,)
    monkeypatch.setenv("HF_HUB_ETAG_TIMEOUT", "1")
    monkeypatch.setenv("LORA_AUDIT_HUB_DEADLINE", "1")
    started = time.monotonic()
    result = cli(QWEN, "--adapter", "someone/lora", "--format", "json")
    elapsed = time.monotonic() - started
    assert result.code == 2, result.err
    error = json.loads(result.out)["error"]
    assert error["code"] == "hub-unreachable"
    assert f"cannot fetch {requested} of the adapter someone/lora@main (no complete answer in 1 s)" in error["message"]
    assert elapsed < 10, f"held {elapsed:.1f} s: the 1-second deadline did not bound the request"
    assert [path for _, path in fake_hub.requests if path.endswith(requested)], fake_hub.requests
    if requested != "adapter_config.json":
        assert ("adapter_config.json", None) in fake_hub.gets  # the config came in full before the header was asked
