"""Fuzzing the inputs added since the first fuzzer (issue 16, item 7): safetensors headers, kohya-style
files, framework YAML, pyproject tables, baselines and result-cache entries.

Real fixtures are mutated (values replaced by arbitrary JSON, keys dropped or added, bytes flipped); each
reader must either accept the input or raise an :class:`AuditError` (exit 2 on the command line), never
another exception, and within the budget. Each property runs in-process on the reader itself, so it
stays fast; ``LORA_AUDIT_FUZZ_EXAMPLES`` runs more examples.
"""

from __future__ import annotations

import json
import os
import struct
import time
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lora_audit.adapter.header import read_local_header
from lora_audit.cli import cache
from lora_audit.cli.baseline import read_baseline
from lora_audit.config.loading import load_config_file
from lora_audit.errors import AuditError
from lora_audit.rules.settings import parse_settings
from tests.conftest import FIXTURES

EXAMPLES = int(os.environ.get("LORA_AUDIT_FUZZ_EXAMPLES", "40"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
#: No single input may take longer than this to be accepted or refused.
SECONDS = 10

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)


def mutate(value, data):
    """A copy of a JSON-like value with a few of its parts replaced, dropped or added."""
    if isinstance(value, dict) and value:
        out = dict(value)
        for _ in range(data.draw(st.integers(1, 3))):
            key = data.draw(st.sampled_from(sorted(out) or ["x"]))
            action = data.draw(st.sampled_from(["replace", "drop", "add", "recurse"]))
            if action == "replace":
                out[key] = data.draw(json_values)
            elif action == "drop":
                out.pop(key, None)
            elif action == "add":
                out[data.draw(st.text(max_size=12))] = data.draw(json_values)
            elif key in out:
                out[key] = mutate(out[key], data)
        return out
    if isinstance(value, list) and value:
        out_list = list(value)
        i = data.draw(st.integers(0, len(out_list) - 1))
        out_list[i] = mutate(out_list[i], data) if data.draw(st.booleans()) else data.draw(json_values)
        return out_list
    return data.draw(json_values)


def accepted_or_audit_error(read, *args):
    start = time.monotonic()
    try:
        read(*args)
    except AuditError as exc:
        assert exc.code and "\n" not in exc.one_line()
    assert time.monotonic() - start < SECONDS


SAFETENSORS = sorted(FIXTURES.rglob("*.safetensors"))


@pytest.mark.skipif(not SAFETENSORS, reason="no safetensors fixture")
@FUZZ
@given(data=st.data())
def test_safetensors_headers(tmp_path_factory, data):
    raw = data.draw(st.sampled_from(SAFETENSORS)).read_bytes()
    (length,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + length])
    body = raw[8 + length:]
    if data.draw(st.booleans()):
        text = json.dumps(mutate(header, data)).encode()
    else:  # flipped bytes in the header itself
        text = bytearray(raw[8:8 + length])
        for _ in range(data.draw(st.integers(1, 4))):
            text[data.draw(st.integers(0, len(text) - 1))] = data.draw(st.integers(0, 255))
        text = bytes(text)
    prefix = struct.pack("<Q", data.draw(st.sampled_from([len(text), len(text) + 1, 2**63, 0])))
    path = tmp_path_factory.mktemp("st") / "adapter_model.safetensors"
    path.write_bytes(prefix + text + body)
    accepted_or_audit_error(read_local_header, path)


FRAMEWORK_YAML = sorted(p for folder in ("axolotl", "llamafactory", "trl", "lora")
                        for p in (FIXTURES / folder).glob("*.y*ml"))


@FUZZ
@given(data=st.data())
def test_framework_yaml(tmp_path_factory, data):
    source = data.draw(st.sampled_from(FRAMEWORK_YAML))
    document = yaml.safe_load(source.read_text())
    path = tmp_path_factory.mktemp("yaml") / source.name
    path.write_text(yaml.safe_dump(mutate(document, data), allow_unicode=True))
    accepted_or_audit_error(load_config_file, path)


PYPROJECT = {"fail-on": "warning", "select": ["LA001", "LA002"], "ignore": {"LA006": "why", "LA001:c_proj": "x"},
             "severity": {"LA009": "error"}, "options": {"LA006": {"threshold": 4}},
             "audits": [{"model": "Qwen/Qwen2.5-0.5B", "config": "train/lora.yaml", "lora": {"r": 16}}]}


@FUZZ
@given(data=st.data())
def test_pyproject_tables(data):
    table = mutate(PYPROJECT, data)
    accepted_or_audit_error(parse_settings, table, Path("pyproject.toml"))


@FUZZ
@given(data=st.data())
def test_baselines(tmp_path_factory, data):
    baseline = {"lora_audit_baseline": 1, "findings": [{"code": "LA001", "subject": "c_proj", "file": "a.yaml"}]}
    path = tmp_path_factory.mktemp("baseline") / "baseline.json"
    path.write_text(json.dumps(mutate(baseline, data)))
    accepted_or_audit_error(read_baseline, path)


@FUZZ
@given(data=st.data())
def test_cache_entries_are_a_miss_or_a_report(tmp_path_factory, monkeypatch_session, real_facts, data):
    folder = tmp_path_factory.mktemp("cache")
    monkeypatch_session.setenv(cache.ENV_DIR, str(folder))
    key = "0" * 64
    payload = real_facts
    secret = cache.secret(create=True)
    assert secret is not None
    text = json.dumps(mutate(payload, data))
    entry = {"format": cache.ENTRY_FORMAT, "key": key, "payload": text, "mac": cache._mac(secret, key, text)}
    if data.draw(st.booleans()):
        entry = mutate(entry, data)
    cache.entry_path(key).write_text(json.dumps(entry))
    start = time.monotonic()
    result = cache.load(key)  # never raises: a miss (None) or a Report
    assert result is None or result.model is not None
    assert time.monotonic() - start < SECONDS


@pytest.fixture(scope="module")
def real_facts():
    """A real audit's facts, as the cache stores them."""
    import lora_audit

    facts = lora_audit.audit(str(FIXTURES / "tiny" / "qwen2"), overrides={"target_modules": ["q_proj"]}).to_dict()
    facts["findings"] = []
    return facts


@pytest.fixture(scope="module")
def monkeypatch_session():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()
