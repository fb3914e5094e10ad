"""Nothing runs that was not asked for: no remote code, no pickle, no weights file opened."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import LORA, TINY
from tests.integration.hostile.helpers import (
    QWEN,
    TINY_QWEN_CONFIG,
    WEIGHT_NAMES,
    assert_bad_input,
    malicious_pickle,
    model_dir,
    strict_json,
    write,
)


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


@pytest.mark.slow
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


# ----- a settings file is the pull request author's: it can never enable code execution
@pytest.mark.parametrize("toml", [
    'audits = [{ model = "model", config = "lora.json", trust-remote-code = true }]',
    'trust-remote-code = true\naudits = [{ model = "model", config = "lora.json" }]',
    'audits = [{ model = "model", config = "lora.json", trust_remote_code = true }]',
], ids=["in-an-audits-entry", "at-the-top", "spelt-with-underscores"])
@pytest.mark.parametrize("name", ["pyproject.toml", "lora-audit.toml"])
def test_trust_remote_code_in_a_settings_file_is_refused_and_nothing_runs(cli, validate, tmp_path, monkeypatch,
                                                                          toml, name):
    marker = tmp_path / "IMPORTED"
    _custom_code_model(tmp_path / "model", marker, model_type="evil")
    write(tmp_path / "lora.json", json.dumps({"r": 8, "target_modules": ["q_proj"]}))
    write(tmp_path / name, ("[tool.lora-audit]\n" if name == "pyproject.toml" else "") + toml + "\n")
    monkeypatch.chdir(tmp_path)
    line = assert_bad_input(cli, validate, ["check"], "settings-invalid", "trust-remote-code", "--trust-remote-code")
    assert "settings file" in line or "a settings file may not" in line
    assert not marker.exists()
    assert not [module for module in sys.modules if "evil" in module]


def test_check_trusts_remote_code_only_from_its_flag(cli, tmp_path, monkeypatch):
    """Without the flag the custom-code pair is refused; with it, transformers is allowed to import the code."""
    marker = tmp_path / "IMPORTED"
    _custom_code_model(tmp_path / "model", marker, model_type="evil")
    write(tmp_path / "lora.json", json.dumps({"r": 8, "target_modules": ["q_proj"]}))
    write(tmp_path / "pyproject.toml", '[tool.lora-audit]\naudits = [{ model = "model", config = "lora.json" }]\n')
    monkeypatch.chdir(tmp_path)
    refused = cli("check", "--format", "json")
    assert refused.code == 2 and "remote-code-required" in refused.out and not marker.exists()
    trusted = cli("check", "--trust-remote-code", "--no-cache", "--format", "json")
    assert marker.exists(), trusted.out[-400:]  # the flag reached the audit: transformers imported the code
