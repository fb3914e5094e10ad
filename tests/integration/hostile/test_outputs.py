"""No lies in the output: the --json file is whole or an error document, numbers are finite, and the exit
code survives broken streams."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import lora_audit
from tests.conftest import SCHEMA, TINY
from tests.integration.hostile.helpers import (
    QWEN,
    strict_json,
    write,
)


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
@pytest.mark.slow
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
