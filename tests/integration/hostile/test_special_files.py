"""Every file argument is opened through one guarded open (lora_audit/guards/files.py): a FIFO with no
writer or no reader, /dev/zero, a symlink loop and a device fail at once with one line, never hang or
grow (issue 16, items 3-4)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
from pathlib import Path

import pytest

from lora_audit.guards import files
from tests.conftest import FIXTURES

QWEN = "Qwen/Qwen2.5-0.5B"
ADAPTER = FIXTURES / "adapters" / "qwen2-tiny-resized"
#: A hang fails the test after this many seconds instead of blocking the suite.
DEADLINE = 20


@contextlib.contextmanager
def deadline(seconds: int = DEADLINE):
    def expired(signum, frame):
        raise AssertionError(f"blocked for {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def special(kind: str, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "dev-zero":
        path.symlink_to("/dev/zero")
    elif kind == "symlink-loop":
        path.symlink_to(path)
    return path


KINDS = ["fifo", "dev-zero", "symlink-loop"]


def one_line_exit_2(result) -> str:
    assert result.code == 2, (result.code, result.err, result.out[-300:])
    lines = result.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("lora-audit: error: ") and "Traceback" not in result.err
    return lines[0]


@pytest.mark.parametrize("kind", KINDS)
def test_a_special_baseline(cli, tmp_path, kind):
    path = special(kind, tmp_path / "baseline.json")
    with deadline():
        line = one_line_exit_2(cli(QWEN, "--targets", "q_proj", "--baseline", path))
    assert "baseline" in line


@pytest.mark.parametrize("kind", KINDS)
def test_a_special_adapter_file(cli, tmp_path, kind):
    folder = tmp_path / "adapter"
    shutil.copytree(ADAPTER, folder)
    (folder / "adapter_model.safetensors").unlink()
    special(kind, folder / "adapter_model.safetensors")
    with deadline():
        one_line_exit_2(cli(FIXTURES / "tiny" / "qwen2", "--adapter", folder))


@pytest.mark.parametrize("kind", KINDS)
def test_a_special_file_to_diff(cli, tmp_path, kind):
    path = special(kind, tmp_path / "b.safetensors")
    with deadline():
        result = cli("diff", ADAPTER / "adapter_model.safetensors", path)
    one_line_exit_2(result)


@pytest.mark.parametrize("kind", KINDS)
def test_a_special_settings_file(cli, tmp_path, monkeypatch, kind):
    special(kind, tmp_path / "pyproject.toml")
    monkeypatch.chdir(tmp_path)
    with deadline():
        line = one_line_exit_2(cli("check"))
    assert "pyproject.toml" in line


def test_a_fifo_nobody_reads_as_the_json_target(cli, tmp_path):
    path = special("fifo", tmp_path / "report.json")
    with deadline():
        result = cli(QWEN, "--targets", "q_proj", "--json", path)
    assert result.code == 2 and "nobody reads" in result.err, result.err


def test_a_fifo_nobody_reads_as_the_write_baseline_target(cli, tmp_path):
    path = special("fifo", tmp_path / "baseline.json")
    with deadline():
        result = cli(QWEN, "--targets", "q_proj", "--write-baseline", path)
    assert result.code == 2 and "nobody reads" in result.err, result.err


def test_a_fifo_as_the_step_summary_is_a_warning_not_a_hang(cli, tmp_path, monkeypatch):
    path = special("fifo", tmp_path / "summary.md")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(path))
    with deadline():
        result = cli(QWEN, "--targets", "q_proj")
    assert result.code == 0 and "cannot append" in result.err


# --------------------------------------------------------------------------- the guard itself
@pytest.mark.parametrize("kind", KINDS)
def test_read_regular_refuses_what_is_not_a_regular_file(tmp_path, kind):
    path = special(kind, tmp_path / "x")
    with deadline(), pytest.raises(OSError) as info:
        files.read_regular(path, 1024)
    assert files.describe(info.value)


def test_read_regular_caps_the_size_and_can_refuse_symlinks(tmp_path):
    big = tmp_path / "big"
    big.write_bytes(b"x" * 2048)
    with pytest.raises(files.TooLarge):
        files.read_regular(big, 1024)
    assert files.read_regular(big, 4096) == b"x" * 2048
    link = tmp_path / "link"
    link.symlink_to(big)
    assert files.read_regular(link, 4096) == b"x" * 2048
    with pytest.raises(OSError):
        files.read_regular(link, 4096, follow=False)


def test_open_for_writing_a_regular_file_replaces_its_content(tmp_path):
    path = tmp_path / "out.json"
    path.write_text("old content that is longer")
    with files.open_for_writing(path) as handle:
        handle.write(json.dumps({"a": 1}))
    assert json.loads(path.read_text()) == {"a": 1}


# --------------------------------------------------------------------------- nesting no parser can take
@pytest.mark.parametrize("name", ["pyproject.toml", "lora-audit.toml"])
def test_a_settings_file_nested_too_deeply(cli, tmp_path, monkeypatch, name):
    depth = 100_000
    head = "[tool.lora-audit]\n" if name == "pyproject.toml" else ""
    (tmp_path / name).write_text(head + "x = " + "[" * depth + "]" * depth + "\n")
    monkeypatch.chdir(tmp_path)
    line = one_line_exit_2(cli("check"))
    assert "too deeply" in line and "internal" not in line


def test_a_baseline_nested_too_deeply(cli, tmp_path):
    path = tmp_path / "baseline.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    line = one_line_exit_2(cli(QWEN, "--targets", "q_proj", "--baseline", path))
    assert "too deeply" in line


def test_parsing_a_huge_config_counts_against_the_timeout(tmp_path):
    """10 MB of blank lines: reading and parsing the file is inside --timeout, which stops it (the command, as a
    user runs it)."""
    import subprocess
    import sys

    path = tmp_path / "blank.yaml"
    path.write_text("\n" * 10_000_000 + "r: 8\ntarget_modules: [q_proj]\n")
    result = subprocess.run([sys.executable, "-m", "lora_audit", QWEN, "--config", str(path), "--timeout", "0.3",
                             "--no-cache", "--offline"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "budget" in result.stderr, result.stderr
