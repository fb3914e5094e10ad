"""Hostile and broken inputs (issue 4): lora-audit never crashes, never hangs, never runs what it
was not asked to, and never lies in its JSON.

Every bad input exits 2 with ONE line on stderr, ``lora-audit: error: <problem>. <fix>.``, no
traceback, and with ``--format json`` an error document that validates against the shipped
schema. Each error's stable ``code`` is documented in docs/errors.md.
"""

from __future__ import annotations

import copy
import json
import os
import pickle
import re
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import transformers
from peft import LoraConfig

import lora_audit
from tests.conftest import LORA, ROOT, SCHEMA, TINY

QWEN = "Qwen/Qwen2.5-0.5B"  # in the bundled catalogue: resolves offline
TINY_QWEN_CONFIG = json.loads((TINY / "qwen2" / "config.json").read_text())
ERRORS_DOC = ROOT / "docs" / "errors.md"
WEIGHT_NAMES = ("model.safetensors", "pytorch_model.bin", "adapter_model.safetensors", "adapter_model.bin")


# --------------------------------------------------------------------------- helpers
def strict_json(text: str):
    """json.loads that refuses NaN and Infinity, which Python writes but JSON does not have."""

    def refuse(constant):
        raise ValueError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


def assert_bad_input(cli, validate, args, code: str, *fragments: str) -> str:
    """Exit 2, one stderr line naming the problem and the fix, and with --format json a valid error document."""
    result = cli(*args)
    assert result.code == 2, (args, result.code, result.err, result.out[-500:])
    assert "Traceback" not in result.err
    lines = result.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("lora-audit: error: "), result.err
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])

    as_json = cli(*args, "--format", "json")
    assert as_json.code == 2 and as_json.err == result.err
    error = validate(strict_json(as_json.out))["error"]
    assert error["code"] == code, error
    assert error["hint"], "every error says what to do"
    assert " ".join(error["hint"].split()).rstrip(". ") in lines[0], "the fix is on the stderr line"
    return lines[0]


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def sparse(path: Path, size: int) -> Path:
    """A file of ``size`` bytes that takes no disk space (and no time to write)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as handle:
        handle.truncate(size)
    return path


def model_dir(folder: Path, **changes) -> Path:
    """A copy of the tiny Qwen2 config.json with ``changes`` (a value of ... removes the key)."""
    config = {**TINY_QWEN_CONFIG, **changes}
    config = {k: v for k, v in config.items() if v is not ...}
    write(folder / "config.json", json.dumps(config))
    return folder


def malicious_pickle(marker: Path) -> bytes:
    """A pickle that creates ``marker`` when it is loaded: proof that nobody loaded it."""

    class CreatesMarker:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    return pickle.dumps(CreatesMarker())


# --------------------------------------------------------------------------- 1. the catalogue of bad inputs
def _case(setup, code: str, *fragments: str, id: str):
    return pytest.param(setup, code, fragments, id=id)


BAD_INPUTS = [
    # The model: paths, config.json contents, the hub id offline.
    _case(lambda t: [t / "no" / "such" / "model"], "path-not-found", "no such file or directory", id="missing-path"),
    _case(lambda t: ["./models/llama"], "path-not-found", id="missing-relative-path"),
    _case(lambda t: [t], "no-config-json", "has no config.json", id="directory-without-config-json"),
    _case(lambda t: [write(t / "config.json", '{"model_type": "qwen2",')], "config-malformed", "not valid JSON",
          id="malformed-json"),
    _case(lambda t: [write(t / "config.json", "[1, 2]")], "config-malformed", id="json-list-not-object"),
    _case(lambda t: [write(t / "config.json", "[" * 100_000)], "config-malformed", "too deeply", id="json-nested-deep"),
    _case(lambda t: [model_dir(t, model_type=...)], "config-no-model-type", "has no model_type", id="no-model-type"),
    _case(lambda t: [model_dir(t, model_type=["qwen2"])], "config-malformed", "model_type", id="model-type-not-str"),
    _case(lambda t: [model_dir(t, architectures="Qwen2ForCausalLM")], "config-malformed", "architectures",
          id="architectures-not-a-list"),
    _case(lambda t: [model_dir(t, architectures=[5])], "config-malformed", "architectures",
          id="architectures-not-names"),
    _case(lambda t: [model_dir(t, model_type="llama99")], "unknown-model-type",
          f"transformers {transformers.__version__} does not know model_type 'llama99'", "newer transformers",
          id="unknown-model-type"),
    _case(lambda t: [write(t / "model.safetensors", b"\x00" * 16)], "weights-file", "weights file",
          id="weights-file-as-model"),
    _case(lambda t: [write(t / "config.json", b"\xff\xfe{}")], "config-unreadable", id="config-not-utf8"),
    _case(lambda t: ["/dev/zero"], "config-unreadable", "character device", id="endless-file-as-model"),
    _case(lambda t: [sparse(t / "config.json", 17 * 1024 * 1024)], "config-unreadable", "larger than 16 MB",
          id="config-over-16-mb"),
    _case(lambda t: ["not a hub id!"], "invalid-model-id", id="invalid-hub-id"),
    _case(lambda t: ["someone/not-bundled"], "offline-not-cached", "HF_HUB_OFFLINE", id="offline-not-cached"),
    _case(lambda t: ["someone/not-bundled", "--offline"], "offline-not-cached", id="offline-flag-not-cached"),
    _case(lambda t: [QWEN, "--revision", "v9"], "offline-not-cached", "main revision",
          id="catalogue-has-only-main"),
    # Building the model on the meta device.
    _case(lambda t: [model_dir(t, num_hidden_layers=0)], "empty-model", "num_hidden_layers=0", id="empty-model"),
    _case(lambda t: [model_dir(t, num_hidden_layers=10**9)], "too-many-layers", "num_hidden_layers=1000000000",
          id="a-billion-layers"),
    _case(lambda t: [model_dir(t, intermediate_size=0), "--targets", "gate_proj"], "zero-size-weight",
          "mlp.gate_proj.weight", id="zero-size-dimension"),
    _case(lambda t: [model_dir(t, num_attention_heads=0)], "build-failed", "Qwen2ForCausalLM", "meta device",
          id="construction-fails-on-meta"),
    _case(lambda t: [model_dir(t, hidden_size="wide")], "config-invalid", id="config-transformers-rejects"),
    _case(lambda t: [QWEN, "--model-class", "LlamaForSomething"], "unknown-model-class", id="unknown-model-class"),
    _case(lambda t: [QWEN, "--model-class", ""], "unknown-model-class", id="empty-model-class"),
    _case(lambda t: [QWEN, "--task-type", "SEQ_2_SEQ_LM"], "no-head-for-task", id="no-head-for-task"),
    # LoRA values from flags.
    _case(lambda t: [QWEN, "-r", "0"], "invalid-lora-value", "r=0", id="rank-0"),
    _case(lambda t: [QWEN, "-r", "-4"], "invalid-lora-value", "r=-4", id="rank-negative"),
    _case(lambda t: [QWEN, "-r", "99999999999999999999"], "invalid-lora-value", id="rank-beyond-any-layer"),
    _case(lambda t: [QWEN, "-r", "abc"], "usage", "'-r'", id="rank-not-a-number"),
    _case(lambda t: [QWEN, "--alpha", "-16"], "invalid-lora-value", "lora_alpha=-16", id="alpha-negative"),
    _case(lambda t: [QWEN, "--alpha", "inf"], "invalid-lora-value", "lora_alpha=inf", id="alpha-infinite"),
    _case(lambda t: [QWEN, "--alpha", "nan"], "invalid-lora-value", "lora_alpha=nan", id="alpha-nan"),
    _case(lambda t: [QWEN, "--dropout", "1.5"], "invalid-lora-value", "lora_dropout=1.5", id="dropout-above-1"),
    _case(lambda t: [QWEN, "--dropout", "1"], "invalid-lora-value", "[0, 1)", id="dropout-1"),
    _case(lambda t: [QWEN, "--dropout", "-0.1"], "invalid-lora-value", id="dropout-negative"),
    _case(lambda t: [QWEN, "--bias", "some"], "usage", "'--bias'", "lora_only", id="bias-unknown-flag"),
    _case(lambda t: [QWEN, "--task-type", "CAUSAL"], "usage", "'--task-type'", id="task-type-unknown-flag"),
    _case(lambda t: [QWEN, "--target-regex", "q_proj(("], "invalid-lora-value", "not a valid regular expression",
          id="invalid-regex"),
    _case(lambda t: [QWEN, "--targets", "q_proj", "--target-regex", ".*"], "usage", id="targets-and-regex"),
    _case(lambda t: [QWEN, "--targets", ""], "invalid-lora-value", "--targets", id="targets-empty"),
    _case(lambda t: [QWEN, "--target-regex", ""], "invalid-lora-value", id="target-regex-empty"),
    _case(lambda t: [QWEN, "--targets", "q_proj,,v_proj"], "invalid-lora-value", "empty entry", id="targets-gap"),
    _case(lambda t: [QWEN, "--layers-pattern", ","], "invalid-lora-value", "--layers-pattern",
          id="layers-pattern-only-commas"),
    _case(lambda t: [QWEN, "--layers", "5-2"], "invalid-lora-value", "runs backwards", "2-5", id="layers-backwards"),
    _case(lambda t: [QWEN, "--layers", "a-b"], "invalid-lora-value", "not a layer index", id="layers-not-numbers"),
    _case(lambda t: [QWEN, "--layers", "0-99999999"], "invalid-lora-value", "beyond any model",
          id="layers-hundred-million"),
    _case(lambda t: [QWEN, "--layers", "0-" + "9" * 5000], "invalid-lora-value", "beyond any model",
          id="layers-5000-digits"),
    _case(lambda t: [QWEN, "--rank-pattern", "q_proj=x"], "invalid-lora-value", "NAME=VALUE",
          id="rank-pattern-value-not-a-number"),
    _case(lambda t: [QWEN, "--rank-pattern", "q_proj"], "invalid-lora-value", "NAME=VALUE",
          id="rank-pattern-without-value"),
    _case(lambda t: [QWEN, "--rank-pattern", "((=8"], "invalid-lora-value", "regular expression",
          id="rank-pattern-key-invalid-regex"),
    _case(lambda t: [QWEN, "--rank-pattern", "q_proj=0"], "invalid-lora-value", "rank_pattern[q_proj]=0",
          id="rank-pattern-0"),
    _case(lambda t: [QWEN, "--alpha-pattern", "q_proj=1e999"], "invalid-lora-value", "alpha_pattern={'q_proj': inf}",
          "finite", id="alpha-pattern-infinite"),
    # LoRA values from a config file.
    _case(lambda t: [QWEN, "--config", write(t / "l.json", '{"r": 8, "bias": "foo"}')], "invalid-lora-value",
          "bias='foo'", id="file-bias-unknown"),
    _case(lambda t: [QWEN, "--config", write(t / "l.json", '{"task_type": "CAUSAL"}')], "invalid-lora-value",
          "task_type='CAUSAL'", id="file-task-type-unknown"),
    _case(lambda t: [QWEN, "--config", write(t / "l.json", '{"r": 8, "lora_alpha": Infinity}')],
          "invalid-lora-value", id="file-alpha-infinity"),
    _case(lambda t: [QWEN, "--config", write(t / "l.json", '{"r": 8, "use_dora": "yes"}')], "invalid-lora-value",
          "use_dora='yes'", id="file-switch-not-bool"),
    _case(lambda t: [QWEN, "--config", write(t / "l.json", '{"r": 8, "layers_pattern": 5}')], "invalid-lora-value",
          "layers_pattern=5", id="file-layers-pattern-not-a-name"),
    _case(lambda t: [QWEN, "--config", write(t / "l.json", '{"target_modules": [1, 2]}')], "invalid-lora-value",
          id="file-targets-not-names"),
    _case(lambda t: [QWEN, "--config", write(t / "l.json", '{"rank_pattern": "q_proj=8"}')], "invalid-lora-value",
          id="file-rank-pattern-not-a-mapping"),
    _case(lambda t: [QWEN, "--config", write(t / "l.json", '{"target_modules": ".*q", "layers_to_transform": [0]}')],
          "invalid-lora-config", "PEFT rejects", id="file-peft-rejects"),
    # Found by tests/integration/test_fuzz.py: PEFT embeds these names in regular expressions of its own.
    _case(lambda t: [QWEN, "--modules-to-save", "("], "invalid-lora-value", "as PEFT reads it",
          id="modules-to-save-breaks-peft-regex"),
    _case(lambda t: [QWEN, "--targets", "q_proj", "--layers", "0", "--layers-pattern", "(?P<idx>layers)"],
          "invalid-lora-value", "as PEFT reads it", id="layers-pattern-breaks-peft-regex"),
    _case(lambda t: [QWEN, "--targets", "q_proj", "--rank-pattern", "(?i)q_proj=4"], "invalid-lora-value",
          "as PEFT reads it", id="rank-pattern-key-breaks-peft-regex"),
    # Found by tests/integration/test_fuzz.py: the report repeats the config, and JSON cannot write inf.
    _case(lambda t: [QWEN, "--config", write(t / "l.json", '{"init_lora_weights": [Infinity]}')],
          "invalid-lora-value", "finite", id="file-infinity-in-any-field"),
    _case(lambda t: [QWEN, "--config", write(t / "l.json", '{"init_lora_weights": ' + "[" * 900 + "]" * 900 + "}")],
          "lora-config-malformed", "too deeply", id="file-nested-deeper-than-the-stack"),
    # Config files that are missing, broken, or not LoRA configs.
    _case(lambda t: [QWEN, "--config", t / "missing.yaml"], "lora-config-not-found", id="config-file-missing"),
    _case(lambda t: [QWEN, "--config", t], "lora-config-not-found", "adapter_config.json",
          id="config-dir-without-adapter-config"),
    _case(lambda t: [QWEN, "--config", write(t / "l.json", "{r: 8}")], "lora-config-malformed", "not valid JSON",
          id="config-malformed-json"),
    _case(lambda t: [QWEN, "--config", write(t / "l.yaml", "r: [8\n")], "lora-config-malformed", "not valid YAML",
          id="config-malformed-yaml"),
    _case(lambda t: [QWEN, "--config", write(t / "l.yaml", "r: !!python/object/apply:os.system [echo hi]\n")],
          "lora-config-malformed", id="config-yaml-python-tag"),
    _case(lambda t: [QWEN, "--config", write(t / "l.json", "[" * 100_000)], "lora-config-malformed", "too deeply",
          id="config-json-nested-deep"),
    _case(lambda t: [QWEN, "--config", write(t / "l.yaml", "a: " + "[" * 100_000)], "lora-config-malformed",
          "too deeply", id="config-yaml-nested-deep"),
    _case(lambda t: [QWEN, "--config", write(t / "l.yaml", "- r\n- 8\n")], "lora-config-invalid", "not a mapping",
          id="config-yaml-list"),
    _case(lambda t: [QWEN, "--config", write(t / "l.yaml", b"r: \xff\n")], "lora-config-unreadable",
          id="config-not-utf8"),
    _case(lambda t: [QWEN, "--config", model_dir(t) / "config.json"], "not-a-lora-config", "pass it as MODEL",
          id="model-config-as-lora-config"),
    _case(lambda t: [QWEN, "--config", write(t / "ia3.json", '{"peft_type": "IA3", "target_modules": ["k"]}')],
          "not-a-lora-config", "IA3", id="ia3-adapter-config"),
    # The command line.
    _case(lambda t: [QWEN, "--rnak", "8"], "usage", "--rnak", id="unknown-flag"),
    _case(lambda t: [QWEN, "--select", "LA999"], "unknown-rule", "LA999", id="select-unknown-rule"),
    _case(lambda t: [QWEN, "--ignore", "LA999:q_proj"], "unknown-rule", "LA999", id="ignore-unknown-rule"),
    _case(lambda t: [QWEN, "--ignore", ","], "usage", "--ignore", id="ignore-only-commas"),
    _case(lambda t: [QWEN, "--json", ""], "usage", "--json", id="json-empty-path"),
    _case(lambda t: [QWEN, "--json", t / "no-such-dir" / "r.json"], "json-unwritable", id="json-dir-missing"),
    _case(lambda t: [QWEN, "--json", t], "json-unwritable", id="json-path-is-a-directory"),
    _case(lambda t: [QWEN, "--json", "a\x00b.json"], "json-unwritable", id="json-path-with-nul"),
    _case(lambda t: ["~no-such-user-lora-audit/model"], "path-not-found", id="unknown-home-directory"),
    _case(lambda t: ["./" + "x" * 300], "path-not-found", id="file-name-too-long"),
]


@pytest.mark.parametrize("setup, code, fragments", BAD_INPUTS)
def test_bad_input_is_one_line_exit_2_and_a_valid_error_document(cli, validate, tmp_path, setup, code, fragments):
    assert_bad_input(cli, validate, [str(a) for a in setup(tmp_path)], code, *fragments)


def _alias_bomb(field: str) -> str:
    """Eight levels of nine aliases: 86 million strings once expanded, under ``field``."""
    levels = ['a: &a ["x", "x"]'] + [
        f"{b}: &{b} [{', '.join(['*' + a] * 9)}]" for a, b in zip("abcdefgh", "bcdefghi", strict=True)
    ]
    return "\n".join(levels) + f"\nr: 8\n{field}: *i\n"


@pytest.mark.parametrize("field", ["target_modules", "init_lora_weights", "an_unknown_field"])
def test_a_yaml_alias_bomb_is_refused_before_it_is_built(cli, validate, tmp_path, field):
    """The node budget holds for the whole document, whatever field the bomb sits under (issue 11, item 8)."""
    bomb = write(tmp_path / "bomb.yaml", _alias_bomb(field))
    started = time.monotonic()
    line = assert_bad_input(cli, validate, [QWEN, "--config", bomb], "lora-config-too-large", "aliases expanded")
    assert len(line) < 500
    assert time.monotonic() - started < 30  # two runs: counted on the node graph, never expanded


def test_a_recursive_yaml_alias_is_refused(cli, validate, tmp_path):
    config = write(tmp_path / "loop.yaml", "r: 8\ninit_lora_weights: &a [*a]\n")
    assert_bad_input(cli, validate, [QWEN, "--config", config], "lora-config-too-large")


@pytest.mark.parametrize(
    "repo, published, code, fragment",
    [
        ("someone/does-not-exist", None, "model-not-found", "or it is private"),
        ("someone/private", {"config": TINY_QWEN_CONFIG, "private": True}, "model-not-found", "HF_TOKEN"),
        ("someone/gated", {"config": TINY_QWEN_CONFIG, "gated": True}, "gated-repo", "licence"),
        ("someone/no-config", {"files": {"README.md": b"hi"}}, "no-config-json", "no config.json"),
    ],
)
def test_hub_repos_that_do_not_give_config_json(cli, validate, fake_hub, repo, published, code, fragment):
    # A gated repository that IS bundled falls back to the catalogue (test_source.py); this one is not.
    if published is not None:
        fake_hub.add(repo, **published)
    assert_bad_input(cli, validate, [repo], code, fragment)
    # without config.json, a diffusers pipeline's model_index.json is the one other file asked for
    expected = {"config.json", "model_index.json"} if code == "no-config-json" else {"config.json"}
    assert set(fake_hub.requested_files) == expected


def test_hub_revision_that_does_not_exist(cli, validate, fake_hub):
    fake_hub.add("someone/tiny", TINY_QWEN_CONFIG)
    assert_bad_input(cli, validate, ["someone/tiny", "--revision", "v9"], "revision-not-found", "--revision")


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


# --------------------------------------------------------------------------- tolerated: other PEFT versions
OLD_PEFT_ADAPTER = {  # as PEFT 0.2 saved it: enable_lora and merge_weights are long gone
    "base_model_name_or_path": "Qwen/Qwen2.5-0.5B",
    "bias": "none",
    "enable_lora": None,
    "fan_in_fan_out": False,
    "inference_mode": True,
    "lora_alpha": 32,
    "lora_dropout": 0.05,
    "merge_weights": False,
    "modules_to_save": None,
    "peft_type": "LORA",
    "r": 8,
    "target_modules": ["q_proj", "v_proj"],
    "task_type": "CAUSAL_LM",
}


@pytest.mark.parametrize(
    "adapter, unknown",
    [
        (LORA / "newer-peft-adapter_config.json", ["another_future_field", "lora_shiny_new_option"]),
        ("older-peft", ["enable_lora", "merge_weights"]),
    ],
    ids=["newer-peft", "older-peft"],
)
def test_adapter_configs_from_other_peft_versions_are_audited(cli, validate, tmp_path, adapter, unknown):
    if adapter == "older-peft":  # as an adapter directory, the way PEFT saved it
        adapter = tmp_path / "adapter"
        write(adapter / "adapter_config.json", json.dumps(OLD_PEFT_ADAPTER))
    result = cli(QWEN, "--config", adapter, "--format", "json")
    assert result.code in (0, 1), result.err
    report = validate(strict_json(result.out))
    assert report["unknown_config_fields"] == unknown
    assert report["applied"]


@pytest.mark.parametrize("args", [["--alpha", "1e-7"], ["--alpha-pattern", "q_proj=1e-7"]])
def test_alpha_so_small_that_the_scaling_rounds_to_zero(cli, args):
    """Found by tests/integration/test_fuzz.py: LA018 once grouped scalings rounded to 6 decimals, and divided by 0."""
    result = cli(QWEN, "--targets", "q_proj,v_proj", *args, "--format", "json")
    assert result.code in (0, 1) and "Traceback" not in result.err
    assert "LA018" in {f["code"] for f in result.json()["findings"]}


# --------------------------------------------------------------------------- 2. nothing runs that was not asked for
def _custom_code_model(folder: Path, marker: Path, model_type: str) -> Path:
    for module in ("configuration_evil", "modeling_evil"):
        write(folder / f"{module}.py", f"open({str(marker)!r}, 'w').write('imported')\n")
    return model_dir(
        folder,
        model_type=model_type,
        architectures=["EvilForCausalLM"] if model_type != "qwen2" else ["Qwen2ForCausalLM"],
        auto_map={
            "AutoConfig": "configuration_evil.EvilConfig",
            "AutoModelForCausalLM": "modeling_evil.EvilForCausalLM",
        },
    )


def test_custom_code_is_refused_without_trust_remote_code_and_never_imported(cli, validate, tmp_path):
    marker = tmp_path / "IMPORTED"
    model = _custom_code_model(tmp_path / "model", marker, model_type="evil")
    line = assert_bad_input(cli, validate, [model, "--targets", "q_proj"], "remote-code-required", "auto_map")
    assert "--trust-remote-code" in line
    assert not marker.exists()
    assert not [name for name in sys.modules if "evil" in name]


def test_a_builtin_model_type_with_an_auto_map_uses_the_builtin_class(cli, tmp_path):
    """Like Phi-3's published config: the auto_map is there, but transformers has the class built in."""
    marker = tmp_path / "IMPORTED"
    model = _custom_code_model(tmp_path / "model", marker, model_type="qwen2")
    result = cli(model, "--targets", "q_proj", "--format", "json")
    assert result.code == 0, result.err
    assert result.json()["model"]["class_name"] == "Qwen2ForCausalLM"
    assert not marker.exists()


def _model_and_adapter_with_weights(tmp_path: Path, marker: Path) -> tuple[Path, Path]:
    """A local model and adapter, each next to weights files whose loading would create ``marker``."""
    model = model_dir(tmp_path / "model")
    adapter = tmp_path / "adapter"
    write(adapter / "adapter_config.json", json.dumps({"peft_type": "LORA", "r": 4, "target_modules": ["q_proj"]}))
    for folder in (model, adapter):
        for name in WEIGHT_NAMES:
            write(folder / name, malicious_pickle(marker))
    return model, adapter


def test_no_pickle_is_ever_loaded(cli, validate, tmp_path, monkeypatch):
    import torch

    def refuse(*args, **kwargs):
        raise AssertionError("lora-audit deserialised a pickle")

    for owner, name in ((pickle, "load"), (pickle, "loads"), (torch, "load"), (torch.serialization, "load")):
        monkeypatch.setattr(owner, name, refuse)
    marker = tmp_path / "UNPICKLED"
    model, adapter = _model_and_adapter_with_weights(tmp_path, marker)
    for args in (
        [model, "--config", adapter],
        [QWEN, "--config", LORA / "adapter", "--targets", "all-linear", "--modules-to-save", "lm_head"],
        [TINY / "gpt2", "--targets", "c_attn", "--bias", "all", "--dora"],
    ):
        result = cli(*args, "--format", "json")
        assert result.code in (0, 1), result.err
        validate(strict_json(result.out))
    assert not marker.exists()


_OPENED: list[str] | None = None  # the paths opened while a test records them, else None


def _record_open(event: str, args: tuple) -> None:
    if event == "open" and _OPENED is not None and isinstance(args[0], (str, bytes, os.PathLike)):
        _OPENED.append(os.fsdecode(args[0]))


_AUDIT_HOOK_INSTALLED = False


@pytest.fixture
def opened_files():
    """Every file path opened during the test (through Python's 'open' audit event)."""
    global _OPENED, _AUDIT_HOOK_INSTALLED
    if not _AUDIT_HOOK_INSTALLED:  # audit hooks cannot be removed: install one, switch it on and off
        sys.addaudithook(_record_open)
        _AUDIT_HOOK_INSTALLED = True
    _OPENED = []
    yield _OPENED
    _OPENED = None


def test_no_weights_file_is_opened(cli, tmp_path, opened_files):
    marker = tmp_path / "UNPICKLED"
    model, adapter = _model_and_adapter_with_weights(tmp_path, marker)
    opened_files.clear()  # writing the fixture files opened them
    result = cli(model, "--config", adapter, "--format", "json")
    assert result.code in (0, 1), result.err
    assert str(model / "config.json") in opened_files  # the recording works
    assert not [path for path in opened_files if Path(path).name in WEIGHT_NAMES]
    assert not marker.exists()


def _console_script() -> Path:
    script = Path(sys.executable).with_name("lora-audit")
    if not script.exists():
        pytest.skip("the lora-audit console script is not installed next to this Python")
    return script


def test_end_to_end_only_config_json_is_ever_requested(fake_hub, validate, tmp_path):
    """The installed `lora-audit` against a hub that also offers weights: it asks for config.json only."""
    marker = tmp_path / "UNPICKLED"
    weights = {name: malicious_pickle(marker) for name in WEIGHT_NAMES}
    fake_hub.add("someone/tiny-qwen", TINY_QWEN_CONFIG, files=weights)
    env = {
        **os.environ,
        "HF_ENDPOINT": fake_hub.url,
        "HF_HUB_OFFLINE": "0",
        "HF_HOME": str(tmp_path / "hf_home"),
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "LORA_AUDIT_NO_PROGRESS": "1",
    }
    env.pop("HF_TOKEN", None)
    runs = [
        ["someone/tiny-qwen", "--targets", "q_proj", "--format", "json"],
        # An adapter directory next to its weights: only adapter_config.json is read; the model comes from the cache.
        ["someone/tiny-qwen", "--config", LORA / "adapter", "--format", "json"],
    ]
    kinds = []
    for args in runs:
        out = subprocess.run([_console_script(), *map(str, args)], capture_output=True, text=True, env=env,
                             cwd=tmp_path, timeout=120)
        assert out.returncode in (0, 1), out.stderr
        assert "Traceback" not in out.stderr
        kinds.append(validate(strict_json(out.stdout))["model"]["source_kind"])
    assert kinds == ["hub", "hf-cache"]
    assert fake_hub.requested_files and set(fake_hub.requested_files) == {"config.json"}
    assert not marker.exists()
    assert not [p for p in (tmp_path / "hf_home").rglob("*") if p.name in WEIGHT_NAMES]


# --------------------------------------------------------------------------- 3. no lies in the output
def test_json_path_replaces_an_existing_file_whole(cli, validate, tmp_path):
    path = tmp_path / "out" / "report.json"
    write(path, "stale " * 100_000)  # much longer than the report: a partial overwrite would leave a tail
    result = cli(QWEN, "--targets", "q_proj", "--format", "json", "--json", path)
    assert result.code == 0
    assert path.read_text() == result.out
    validate(strict_json(path.read_text()))
    assert [p.name for p in path.parent.iterdir()] == ["report.json"]  # no temp file left behind


@pytest.mark.parametrize(
    "args, code",
    [
        (["someone/not-bundled"], "offline-not-cached"),  # the audit fails
        ([QWEN, "-r", "0"], "invalid-lora-value"),  # a bad value
        ([QWEN, "--no-such-flag"], "usage"),  # click cannot even parse the flags
        ([QWEN, "--layers-pattern", ","], "invalid-lora-value"),  # a flag callback refuses its value
    ],
)
def test_json_path_holds_the_error_document_when_the_audit_fails(cli, validate, tmp_path, args, code):
    path = tmp_path / "out" / "report.json"
    write(path, json.dumps({"schema_version": 2, "ok": True}) + " " * 10_000)  # yesterday's green report
    result = cli(*args, "--json", path)
    assert result.code == 2
    assert validate(strict_json(path.read_text()))["error"]["code"] == code
    assert [p.name for p in path.parent.iterdir()] == ["report.json"]


def test_json_path_that_is_a_pipe_or_a_symlink_is_written_through(cli, validate, tmp_path):
    """Renaming over them would replace the pipe (or, run as root with --json /dev/stdout, the device) itself."""
    real = write(tmp_path / "real.json", "old")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    assert cli(QWEN, "--targets", "q_proj", "--json", link, "--no-cache").code == 0  # only the report's rename
    assert link.is_symlink() and validate(strict_json(real.read_text()))["ok"]

    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    received: list[str] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()), daemon=True)
    reader.start()
    assert cli(QWEN, "--targets", "q_proj", "--json", fifo).code == 0
    reader.join(timeout=30)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    validate(strict_json(received[0]))


def _floats_where_the_schema_says_integer(schema: dict, document) -> list[str]:
    """jsonschema accepts 3.0 as an integer; a count written as 3.0 is still a lie about its type."""
    definitions = schema["$defs"]
    found: list[str] = []

    def visit(node: dict, value, path: str) -> None:
        while "$ref" in node:
            node = definitions[node["$ref"].rsplit("/", 1)[1]]
        types = node.get("type")
        types = types if isinstance(types, list) else [types]
        if "integer" in types and isinstance(value, float):
            found.append(path)
        for option in node.get("oneOf", []) + node.get("anyOf", []):
            visit(option, value, path)
        if isinstance(value, dict):
            extra = node.get("additionalProperties")
            for key, item in value.items():
                sub = node.get("properties", {}).get(key, extra if isinstance(extra, dict) else None)
                if sub is not None:
                    visit(sub, item, f"{path}/{key}")
        if isinstance(value, list) and isinstance(node.get("items"), dict):
            for i, item in enumerate(value):
                visit(node["items"], item, f"{path}/{i}")

    visit(schema, document, "")
    return found


@pytest.mark.parametrize(
    "args",
    [
        [QWEN, "--targets", "all-linear", "--modules-to-save", "lm_head", "--bias", "all", "--rank-pattern",
         "q_proj=16", "--alpha-pattern", "v_proj=3.5"],
        [TINY / "gpt2", "--targets", "c_attn", "--dora", "--layers", "0"],
        [TINY / "mixtral", "--target-parameters", "mlp.experts.gate_up_proj", "--alpha", "7.5"],
        [QWEN, "--targets", "q_proj,c_attn"],
    ],
    ids=["qwen-everything", "gpt2-dora", "mixtral-experts", "qwen-with-errors"],
)
def test_json_counts_are_integers_and_numbers_are_finite(cli, validate, args):
    result = cli(*args, "--format", "json")
    assert result.code in (0, 1), result.err
    report = validate(strict_json(result.out))  # strict: NaN or Infinity fails here
    assert _floats_where_the_schema_says_integer(json.loads(SCHEMA.read_text()), report) == []
    params = report["params"]
    assert params["total"] == params["trainable"] + params["frozen"]
    assert all(type(params[key]) is int for key in ("base", "total", "trainable", "frozen"))


# --------------------------------------------------------------------------- 4. the caller's objects are safe
def test_a_dict_lora_config_is_untouched():
    config = {
        "r": 8,
        "target_modules": ["q_proj", "v_proj"],
        "rank_pattern": {"q_proj": 4},
        "alpha_pattern": {"v_proj": 32},
        "modules_to_save": ["lm_head"],
        "layers_to_transform": [0, 1],
        "task_type": "CAUSAL_LM",
        "a_field_from_a_newer_peft": {"nested": [1]},
    }
    before = copy.deepcopy(config)
    report = lora_audit.audit(TINY / "qwen2", config)
    assert report.applied
    assert config == before
    assert report.unknown_config_fields == ["a_field_from_a_newer_peft"]


@pytest.mark.parametrize("task_type", [None, "SEQ_CLS"])
def test_a_lora_config_without_targets_is_untouched(task_type):
    """PEFT fills in default targets (and, for SEQ_CLS, modules_to_save) on the config it is given."""
    config = LoraConfig(r=4, target_modules=None, task_type=task_type)
    before = copy.deepcopy(config)
    report = lora_audit.audit(TINY / "qwen2", config)
    assert report.applied and report.params.trainable > 0
    assert config == before
    assert config.target_modules is None and config.modules_to_save is None


# --------------------------------------------------------------------------- 6. interrupts
def _sigint_default():
    # A shell that starts pytest in the background makes children ignore SIGINT; the user's shell would not.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _assert_interrupted(process: subprocess.Popen) -> None:
    out, err = process.communicate(timeout=120)
    assert "Traceback" not in err and "terminate called" not in err, err
    assert err.splitlines() == ["lora-audit: interrupted"], err
    assert process.returncode == 130


def test_ctrl_c_during_an_audit_exits_130_with_one_line():
    process = subprocess.Popen(
        [sys.executable, "-m", "lora_audit", QWEN, "--targets", "q_proj", "--offline"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=_sigint_default,
        env={**os.environ, "LORA_AUDIT_NO_PROGRESS": "1"},
    )
    time.sleep(1.5)  # importing torch
    process.send_signal(signal.SIGINT)
    _assert_interrupted(process)


# Runs the console entry point the way the installed script does (main() with no arguments), with
# an import hook that sends SIGINT to the process the moment a given module starts importing.
_INTERRUPT_DURING_IMPORT = """
import importlib.abc, os, signal, sys

class InterruptWhenImporting(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == {module!r}:
            sys.meta_path.remove(self)
            os.kill(os.getpid(), signal.SIGINT)
        return None

sys.meta_path.insert(0, InterruptWhenImporting())
sys.argv = ["lora-audit", {model!r}, "--targets", "q_proj", "--offline"]
from lora_audit.cli import main
main()
"""


@pytest.mark.parametrize("module", ["torch", "torch.nn.modules.linear", "transformers", "peft"])
def test_ctrl_c_while_a_library_is_importing(module):
    """An interrupt inside import machinery or torch's C++ start-up must not become a traceback or an abort."""
    process = subprocess.Popen(
        [sys.executable, "-c", _INTERRUPT_DURING_IMPORT.format(module=module, model=QWEN)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=_sigint_default,
        env={**os.environ, "LORA_AUDIT_NO_PROGRESS": "1"},
    )
    _assert_interrupted(process)


@pytest.mark.parametrize(
    "surfaces_as",
    [
        "KeyboardInterrupt",
        "ImportError raised while handling it",  # a partially initialised module
        "AuditError raised while handling it",  # a library's except Exception turned into our own error
    ],
)
def test_an_interrupt_in_any_disguise_exits_130(cli, monkeypatch, surfaces_as):
    from lora_audit import pipeline
    from lora_audit.errors import AuditError

    def interrupted_audit(*args, **kwargs):
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt:
            if surfaces_as.startswith("ImportError"):
                raise ImportError("cannot import name 'Qwen2Model' (most likely due to a circular import)") from None
            if surfaces_as.startswith("AuditError"):
                raise AuditError("build-failed", "building Qwen2ForCausalLM failed", "check the config") from None
            raise

    monkeypatch.setattr(pipeline, "audit", interrupted_audit)
    result = cli(QWEN, "--targets", "q_proj", "--format", "json")
    assert (result.code, result.err, result.out) == (130, "lora-audit: interrupted\n", "")


# --------------------------------------------------------------------------- 7. docs/errors.md cannot go stale
def _codes_raised_in_src() -> set[str]:
    codes = set()
    for path in (ROOT / "lora_audit").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        codes |= set(re.findall(r'AuditError\(\s*"([a-z0-9-]+)"', text))
        # Codes handed to the shared file reader, which raises the AuditError itself.
        codes |= set(re.findall(r'read_small_text\([^()]*,\s*"([a-z0-9-]+)"\)', text))
    return codes


def test_every_error_code_is_documented():
    documented = set(re.findall(r"^### `([a-z0-9-]+)`$", ERRORS_DOC.read_text(encoding="utf-8"), re.M))
    raised = _codes_raised_in_src()
    assert len(raised) > 20, "the pattern that finds AuditError codes in lora_audit/ stopped working"
    assert raised - documented == set(), "add these codes to docs/errors.md"
    assert documented - raised == set(), "docs/errors.md lists codes nothing raises any more"


def test_readme_links_the_errors_page():
    assert "(docs/errors.md)" in (ROOT / "README.md").read_text(encoding="utf-8")


# --------------------------------------------------------------------------- 8. issue 11: no hang, kill, leak or crash
HUGE_HEX = "0x" + "f" * 5000  # YAML reads hex without Python's 4,300-digit limit: a 20,000-bit integer
HUGE_DECIMAL = "9" * 5000  # past the limit: int() itself refuses it


def _fifo(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(path)
    return path


def _socket(path: Path) -> Path:
    import socket

    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    _SOCKETS.append(server)  # kept open (and listening) for the test's duration
    server.listen(1)
    return path


_SOCKETS: list = []


def _junk_config(folder: Path) -> Path:
    """A config.json of 600,000 small values (2 MB): under the byte cap, far over the value count."""
    return model_dir(folder, junk=[[0, 1, 2, 3, 4, 5] for _ in range(100_000)])


ISSUE_11_CASES = [
    # Huge, tiny and unusable numbers, from every input.
    _case(lambda t: [model_dir(t, hidden_size=10**30)], "config-malformed", "hidden_size is a 100-bit integer",
          id="model-config-huge-int"),
    _case(lambda t: [write(t / "config.json", '{"model_type": "qwen2", "vocab_size": ' + HUGE_DECIMAL + "}")],
          "config-malformed", "4300", id="model-config-5000-digits"),
    _case(lambda t: [QWEN, "--config", write(t / "l.yaml", f"r: 8\nlora_alpha: {HUGE_HEX}\n")],
          "invalid-lora-value", "lora_alpha is a 20000-bit integer", id="yaml-alpha-huge-hex"),
    _case(lambda t: [QWEN, "--config", write(t / "l.yaml", f"r: {HUGE_HEX}\n")], "invalid-lora-value", "r is a",
          id="yaml-rank-huge-hex"),
    _case(lambda t: [QWEN, "--config", write(t / "l.yaml", f"r: 8\nlora_alpha: {HUGE_DECIMAL}\n")],
          "invalid-lora-value", "cannot read", id="yaml-alpha-5000-digits"),
    _case(lambda t: [QWEN, "--config", write(t / "l.json", '{"r": 8, "init_lora_weights": [' + HUGE_DECIMAL + "]}")],
          "invalid-lora-value", id="json-5000-digits-in-any-field"),
    _case(lambda t: [QWEN, "--config", write(t / "l.json", '{"r": 8, "x": {"y": [' + str(10**40) + "]}}")],
          "invalid-lora-value", "x.y[0]", id="json-huge-int-in-unknown-field"),
    _case(lambda t: [QWEN, write(t / "pyproject.toml", f"[tool.lora-audit]\noptions.LA018.max = {HUGE_HEX}\n")
                     and "--targets", "q_proj"], "settings-invalid", "LA018.max", id="pyproject-huge-hex"),
    _case(lambda t: [QWEN, write(t / "pyproject.toml", f"[tool.lora-audit]\nfail-on = {HUGE_DECIMAL}\n")
                     and "--targets", "q_proj"], "settings-invalid", id="pyproject-5000-digits"),
    _case(lambda t: [QWEN, "--targets", "q_proj", "--alpha", "5e-324"], "invalid-lora-value", "underflows",
          id="alpha-scaling-underflows"),
    _case(lambda t: [QWEN, "--targets", "q_proj", "--alpha-pattern", "q_proj=1e-310"], "invalid-lora-value",
          "alpha_pattern[q_proj]", id="alpha-pattern-scaling-underflows"),
    # Depth under any name, and configs whose size alone is the problem.
    _case(lambda t: [model_dir(t, encoder_layers=100_000)], "too-many-layers", "encoder_layers=100000",
          id="encoder-layers"),
    _case(lambda t: [model_dir(t, text_config={"n_layer": 5000})], "too-many-layers", "text_config.n_layer=5000",
          id="depth-in-a-sub-config"),
    _case(lambda t: [model_dir(t, encoder_layers=1500, decoder_layers=1500)], "too-many-layers",
          "3,002 layers in all", "GB", id="depth-summed-over-fields"),
    _case(lambda t: [model_dir(t, depths=[1000, 1000, 1000])], "too-many-layers", "depths=3000",
          id="swin-depths-list"),
    _case(lambda t: [_junk_config(t)], "config-too-large", "500,000 values", id="config-of-junk"),
    _case(lambda t: [QWEN, "--targets", "q_proj", "--modules-to-save", ",".join(f"m{i}" for i in range(2000))],
          "invalid-lora-value", "2,000 entries", id="modules-to-save-2000-entries"),
    # Special files: nothing blocks, nothing is a traceback.
    _case(lambda t: [_fifo(t / "model" / "config.json").parent], "config-unreadable", "named pipe",
          id="fifo-as-config-json"),
    _case(lambda t: [_fifo(t / "config.json")], "config-unreadable", "named pipe", id="fifo-as-model"),
    _case(lambda t: [_socket(t / "config.json")], "config-unreadable", "socket", id="socket-as-model"),
    _case(lambda t: [QWEN, "--config", "/dev/zero"], "lora-config-unreadable", "character device",
          id="device-as-lora-config"),
    _case(lambda t: [QWEN, "--config", _fifo(t / "l.json")], "lora-config-unreadable", "no complete config",
          id="fifo-nobody-writes-as-lora-config"),
    # Regexes that backtrack catastrophically, wherever PEFT would run them.
    _case(lambda t: [QWEN, "--target-regex", "(.*.*)*x"], "regex-too-slow", "backtracks catastrophically",
          "'(.*.*)*'", id="target-regex"),
    _case(lambda t: [QWEN, "--targets", "q_proj", "--rank-pattern", "(.*.*)*x=4"], "regex-too-slow", "rank_pattern",
          id="rank-pattern-key"),
    _case(lambda t: [QWEN, "--targets", "q_proj", "--alpha-pattern", "((.*)*)*y=4"], "regex-too-slow",
          "alpha_pattern", id="alpha-pattern-key"),
    _case(lambda t: [QWEN, "--config", write(t / "l.json", '{"target_modules": ["q_proj"], '
                                                          '"exclude_modules": "(.*.*)*x"}')],
          "regex-too-slow", "exclude_modules", id="exclude-modules-string"),
    _case(lambda t: [QWEN, "--targets", "q_proj", "--modules-to-save", "(.*.*)*x"], "regex-too-slow",
          "modules_to_save", id="modules-to-save-entry"),
    # --json naming one of the run's own inputs.
    _case(lambda t: [model_dir(t / "m"), "--json", t / "m" / "config.json"], "json-is-input", "overwrite",
          id="json-is-the-model-config"),
    _case(lambda t: [QWEN, "--config", write(t / "l.json", '{"r": 8}'), "--json", t / "l.json"], "json-is-input",
          id="json-is-the-lora-config"),
    _case(lambda t: [QWEN, "--config", write(t / "l.json", '{"r": 0}'), "--json",
                     (t / "link.json").symlink_to(t / "l.json") or t / "link.json"], "json-is-input",
          id="json-is-a-symlink-to-an-input-on-a-failing-run"),
    _case(lambda t: [QWEN, "--targets", "q_proj", "--json", write(t / "pyproject.toml", "")], "json-is-input",
          id="json-is-the-settings-file"),
]


@pytest.fixture
def short_limits(monkeypatch):
    """The regex and pipe limits, shortened so each case takes a moment (the defaults are tested below)."""
    from lora_audit.guards import regex as regex_guard
    from lora_audit.model import local as source

    monkeypatch.setattr(regex_guard, "TIME_LIMIT", 0.5)
    monkeypatch.setattr(source, "PIPE_SECONDS", 0.5)


@pytest.mark.parametrize("setup, code, fragments", ISSUE_11_CASES)
def test_issue_11_hostile_input_is_exit_2_and_one_line(cli, validate, tmp_path, short_limits, setup, code, fragments):
    args = [str(a) for a in setup(tmp_path)]
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if stat.S_ISREG(os.lstat(p).st_mode)}
    assert_bad_input(cli, validate, args, code, *fragments)
    for path, content in before.items():  # with --json naming an input, even a failed run leaves it alone
        assert path.read_bytes() == content, f"{path} was changed"


@pytest.mark.parametrize("setup, code, fragments", ISSUE_11_CASES)
def test_issue_11_hostile_input_raises_audit_error_in_the_api(tmp_path, monkeypatch, short_limits, setup, code,
                                                              fragments):
    """The same inputs through lora_audit.audit: every failure is an AuditError with the same code."""
    from lora_audit.cli.audit import _overrides, audit_command

    args = [str(a) for a in setup(tmp_path)]
    if "--json" in args or code == "settings-invalid":
        pytest.skip("a command-line matter: the API writes no file and reads no pyproject.toml")
    context = audit_command.make_context("lora-audit", args)
    opts = context.params
    with pytest.raises(lora_audit.AuditError) as info:
        lora_audit.audit(opts["model"], config_file=opts["config_file"], overrides=_overrides(opts))
    assert info.value.code == code


def test_slow_regexes_and_huge_depths_fail_in_seconds_at_the_default_limits(cli, tmp_path):
    """Not at the budget: the regex trial and the depth check come before PEFT and before building."""
    cases = [
        [QWEN, "--target-regex", "(.*.*)*x"],
        [model_dir(tmp_path / "deep", encoder_layers=100_000)],
        [model_dir(tmp_path / "wide", encoder_layers=1500, decoder_layers=1500), "--targets", "all-linear"],
    ]
    for args in cases:
        started = time.monotonic()
        result = cli(*args)
        assert result.code == 2, result.err
        assert time.monotonic() - started < 10, (args, time.monotonic() - started)


def test_the_budget_stops_a_run_that_is_too_slow(cli, validate, monkeypatch):
    """The backstop: past --timeout (or LORA_AUDIT_TIMEOUT), exit 2 naming the budget and how to raise it."""
    import peft

    def slow_get_peft_model(*args, **kwargs):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # Python code: the budget's signal interrupts it
            pass
        raise AssertionError("the budget did not stop the run")

    monkeypatch.setattr(peft, "get_peft_model", slow_get_peft_model)
    started = time.monotonic()
    line = assert_bad_input(cli, validate, [QWEN, "--targets", "q_proj", "--timeout", "1"], "budget-exceeded",
                            "1 s budget", "--timeout")
    assert time.monotonic() - started < 20
    assert "LORA_AUDIT_TIMEOUT" in line
    monkeypatch.setenv("LORA_AUDIT_TIMEOUT", "1")
    assert_bad_input(cli, validate, [QWEN, "--targets", "q_proj"], "budget-exceeded")


def test_the_memory_budget(cli, validate, monkeypatch):
    monkeypatch.setenv("LORA_AUDIT_MAX_MEMORY_GB", "0.001")  # 1 MB: any audit is over it
    assert_bad_input(cli, validate, [QWEN, "--targets", "q_proj", "--no-cache"], "budget-exceeded", "memory budget",
                     "LORA_AUDIT_MAX_MEMORY_GB")


@pytest.mark.parametrize(
    "variable, value, code",
    [
        ("LORA_AUDIT_TIMEOUT", "soon", "usage"),
        ("LORA_AUDIT_TIMEOUT", "-1", "usage"),
        ("LORA_AUDIT_MAX_MEMORY_GB", "nan", "usage"),
        ("HF_HUB_ETAG_TIMEOUT", "ten", "hub-environment"),
        ("HF_HUB_DOWNLOAD_TIMEOUT", "1.5", "hub-environment"),
        ("LORA_AUDIT_HUB_DEADLINE", "0", "hub-environment"),
    ],
)
def test_bad_environment_variables_are_named(cli, validate, monkeypatch, variable, value, code):
    monkeypatch.setenv(variable, value)
    assert_bad_input(cli, validate, [QWEN, "--targets", "q_proj"], code, variable)


def test_a_bad_hub_variable_is_named_before_huggingface_hub_imports(tmp_path):
    """In a fresh process, huggingface_hub would fail inside its own import with a ValueError."""
    env = {**os.environ, "HF_HUB_ETAG_TIMEOUT": "ten", "LORA_AUDIT_NO_PROGRESS": "1"}
    out = subprocess.run([sys.executable, "-m", "lora_audit", QWEN, "--targets", "q_proj", "--format", "json"],
                         capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert out.returncode == 2, out.stderr
    assert out.stderr.count("\n") == 1 and "HF_HUB_ETAG_TIMEOUT" in out.stderr
    assert json.loads(out.stdout)["error"]["code"] == "hub-environment"


def test_an_unwritable_hub_cache_is_named(cli, validate, fake_hub, monkeypatch, tmp_path):
    import huggingface_hub.constants as hub_constants

    fake_hub.add("someone/tiny", TINY_QWEN_CONFIG)
    not_a_dir = write(tmp_path / "file", "x")
    monkeypatch.setattr(hub_constants, "HF_HUB_CACHE", str(not_a_dir / "hub"))
    assert_bad_input(cli, validate, ["someone/tiny"], "hub-cache-unwritable", "HF_HOME")


def test_a_directory_that_cannot_be_read_is_permission_denied(cli, validate, tmp_path, monkeypatch):
    """Tests run as root here, where chmod denies nothing: the OS's answer is simulated."""
    from lora_audit.model import local as source

    model = model_dir(tmp_path / "model")
    real_stat = os.stat

    def denied(path, *args, **kwargs):  # as after chmod 000 on the directory: its entries cannot be looked at
        if str(path).startswith(str(model) + os.sep):
            raise PermissionError(13, "Permission denied", str(path))
        return real_stat(path, *args, **kwargs)

    monkeypatch.setattr(source.os, "stat", denied)
    assert_bad_input(cli, validate, [model], "config-unreadable", "permission denied")
    assert_bad_input(cli, validate, [model / "config.json"], "config-unreadable", "permission denied")


def test_a_pipe_that_delivers_is_read(cli, tmp_path):
    fifo = _fifo(tmp_path / "lora.json")
    writer = threading.Thread(target=lambda: fifo.write_text('{"r": 4, "target_modules": ["q_proj"]}'), daemon=True)
    writer.start()
    result = cli(QWEN, "--config", fifo, "--format", "json")
    assert result.code == 0, result.err
    assert result.json()["lora_config"]["r"] == 4


@pytest.mark.skipif(__import__("importlib").util.find_spec("scipy") is not None, reason="scipy is installed")
def test_an_init_that_needs_a_missing_package(cli, validate, tmp_path):
    config = write(tmp_path / "l.yaml", "r: 8\ntarget_modules: [q_proj]\ninit_lora_weights: loftq\n")
    assert_bad_input(cli, validate, [QWEN, "--config", config], "missing-dependency", "scipy")


# ----- the internal-error guard
@pytest.mark.parametrize("fault", [ZeroDivisionError("float division by zero"), RecursionError("deep"), KeyError("x")])
def test_an_internal_error_is_exit_2_one_line_and_asks_for_a_report(cli, validate, monkeypatch, fault):
    from lora_audit.rules import engine as check

    def broken(*args, **kwargs):
        raise fault

    monkeypatch.setattr(check, "run_rules", broken)
    monkeypatch.setattr("lora_audit.pipeline.run_rules", broken)
    line = assert_bad_input(cli, validate, [QWEN, "--targets", "q_proj"], "internal-error", "internal error",
                            type(fault).__name__, "report")
    assert "--debug" in line
    debug = cli(QWEN, "--targets", "q_proj", "--debug")
    assert debug.code == 2
    assert "Traceback" in debug.err and debug.err.splitlines()[-1] == line
    with pytest.raises(lora_audit.AuditError) as info:
        lora_audit.audit(QWEN, {"target_modules": ["q_proj"]})
    assert info.value.code == "internal-error" and info.value.__cause__ is fault


def test_an_internal_error_in_a_renderer_is_exit_2(cli, validate, monkeypatch):
    from lora_audit.render import markdown

    monkeypatch.setattr(markdown, "render_markdown", lambda report: 1 / 0)
    result = cli(QWEN, "--targets", "q_proj", "--format", "markdown")
    assert result.code == 2 and "Traceback" not in result.err
    assert result.err.splitlines() == [result.err.strip()] and "internal-error" not in result.out


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


@pytest.mark.parametrize("behaviour", ["never answers", "trickles a byte every half second"])
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


# ----- --json PATH
def test_json_path_through_a_symlink_is_replaced_atomically(cli, validate, tmp_path, monkeypatch):
    real = write(tmp_path / "reports" / "real.json", "old " * 10_000)
    link = tmp_path / "link.json"
    link.symlink_to(real)
    from lora_audit.render import json_report

    replaced = []
    real_replace = os.replace
    monkeypatch.setattr(json_report.os, "replace", lambda a, b: (replaced.append((a, b)), real_replace(a, b)))
    assert cli(QWEN, "--targets", "q_proj", "--json", link, "--no-cache").code == 0  # only the report's rename
    assert link.is_symlink() and validate(strict_json(real.read_text()))["ok"]
    assert [Path(b) for _, b in replaced] == [real.resolve()]
    assert Path(replaced[0][0]).parent == real.resolve().parent
    assert sorted(p.name for p in real.parent.iterdir()) == ["real.json"]


def test_json_path_with_a_name_near_the_file_system_limit(cli, validate, tmp_path):
    path = tmp_path / ("r" * 250 + ".json")  # 255 bytes: the longest name most file systems allow
    assert cli(QWEN, "--targets", "q_proj", "--json", path).code == 0
    validate(strict_json(path.read_text()))


def test_json_temp_file_is_removed_on_sigterm(cli, tmp_path, monkeypatch):
    """A cancelled CI job sends SIGTERM: the half-written temp file must not stay behind."""
    from lora_audit.render import json_report

    path = write(tmp_path / "out" / "report.json", "yesterday")

    def fsync_then_terminated(fd):
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(1)  # the handler runs here

    monkeypatch.setattr(json_report.os, "fsync", fsync_then_terminated)
    result = cli(QWEN, "--targets", "q_proj", "--json", path)
    assert result.code == 128 + signal.SIGTERM
    assert [p.name for p in path.parent.iterdir()] == ["report.json"]
    assert path.read_text() == "yesterday"
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL


# ----- output streams: the exit code is the audit's, whatever happens to them
_STREAM_CASES = {
    "stdout closed": ">&-",
    "stderr closed": "2>&-",
    "stdout is /dev/full": ">/dev/full",
    "stdout is a pipe nobody reads": "| true",
    "stdout piped into head": "| head -c 10",
}


def _stream_script(command: str, redirect: str, err: Path, fd: int) -> str:
    if redirect.startswith("|"):
        return f"{command} 2>>{err} {redirect}; echo \"rc=${{PIPESTATUS[0]}}\" >&{fd}"
    if redirect == "2>&-":
        return f"{command} >/dev/null 2>&-; echo \"rc=$?\" >&{fd}"
    return f"{command} 2>>{err} {redirect}; echo \"rc=$?\" >&{fd}"


@pytest.mark.parametrize(
    "redirect, args, expected",
    [pytest.param(redirect, ["-r", "0"], 2, id=f"bad-input, {name}") for name, redirect in _STREAM_CASES.items()]
    + [pytest.param("| head -c 10", ["--targets", "q_proj,nope"], 1, id="findings, stdout piped into head"),
       pytest.param(">/dev/full", ["--targets", "q_proj"], 0, id="ok, stdout is /dev/full")],
)
def test_broken_output_streams_keep_the_exit_code(tmp_path, redirect, args, expected):
    import shlex

    command = " ".join(shlex.quote(a) for a in [sys.executable, "-m", "lora_audit", QWEN, *args, "--format", "json"])
    err = tmp_path / "err"
    with open(tmp_path / "rc", "w") as status:
        subprocess.run(["bash", "-c", _stream_script(command, redirect, err, status.fileno())],
                       pass_fds=(status.fileno(),), cwd=tmp_path, timeout=300,
                       env={**os.environ, "LORA_AUDIT_NO_PROGRESS": "1"},
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert (tmp_path / "rc").read_text().strip() == f"rc={expected}"
    text = err.read_text() if err.exists() else ""
    assert "Traceback" not in text and "Exception ignored" not in text, text
    if redirect != "2>&-" and expected == 2:
        assert text.startswith("lora-audit: error: r=0"), text
    if redirect == ">/dev/full" and expected == 0:
        assert "could not be written to stdout: No space left on device" in text


def test_the_budget_reports_itself_when_the_main_thread_cannot_be_interrupted(monkeypatch):
    """Inside C code that does not return (here libc's usleep through ctypes, which releases the GIL) no
    signal handler runs: after a grace period the watcher reports the error itself (the console script
    then exits 2) instead of waiting for the C code."""
    import ctypes

    from lora_audit.guards import budget

    libc = ctypes.CDLL(None)
    reported: list = []
    monkeypatch.setattr(budget, "GRACE_SECONDS", 0.3)
    budget.set_hard_exit(reported.append)
    try:
        started = time.monotonic()
        with pytest.raises(lora_audit.AuditError) as info, budget.limits(timeout=0.2, poll=0.05):
            while time.monotonic() - started < 10 and not reported:
                libc.usleep(1_500_000)
    finally:
        budget.set_hard_exit(None)
    assert [error.code for error in reported] == ["budget-exceeded"]
    assert info.value.code == "budget-exceeded"
