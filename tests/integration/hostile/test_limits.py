"""No hang, kill, leak or crash: budgets for time and memory, hostile environments and file
systems, the internal-error guard."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import lora_audit
from tests.integration.hostile.helpers import (
    QWEN,
    TINY_QWEN_CONFIG,
    _case,
    assert_bad_input,
    model_dir,
    write,
)

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
def test_hostile_input_is_exit_2_and_one_line(cli, validate, tmp_path, short_limits, setup, code, fragments):
    args = [str(a) for a in setup(tmp_path)]
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if stat.S_ISREG(os.lstat(p).st_mode)}
    assert_bad_input(cli, validate, args, code, *fragments)
    for path, content in before.items():  # with --json naming an input, even a failed run leaves it alone
        assert path.read_bytes() == content, f"{path} was changed"


@pytest.mark.parametrize("setup, code, fragments", ISSUE_11_CASES)
def test_hostile_input_raises_audit_error_in_the_api(tmp_path, monkeypatch, short_limits, setup, code,
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


def test_the_budget_interrupt_landing_outside_its_block_is_still_the_budget_error(monkeypatch):
    """The watcher's interrupt can land in contextlib's own frames as the block ends: the caller converts it."""
    from lora_audit import pipeline
    from lora_audit.errors import AuditError
    from lora_audit.guards import budget
    from lora_audit.request import AuditRequest

    error = AuditError("budget-exceeded", "building and applying needed more than the 0.001 GB memory budget", "x")

    def lands_late(request):
        raise budget.Stop(error)

    monkeypatch.setattr(pipeline, "_audit", lands_late)
    with pytest.raises(AuditError) as caught:
        pipeline.audit(AuditRequest(QWEN, {"r": 8}))
    assert caught.value is error
