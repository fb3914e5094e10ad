"""`lora-audit --help` and `--version` answer without importing torch, transformers or peft."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

import lora_audit

PROBE = """
import sys
sys.argv = ["lora-audit", {arg!r}]
from lora_audit.cli import main
try:
    main()
except SystemExit:
    pass
print("HEAVY:" + ",".join(m for m in ("torch", "transformers", "peft") if m in sys.modules))
"""


@pytest.mark.parametrize("arg", ["--help", "--version", "rules"])
def test_no_heavy_imports(arg):
    out = subprocess.run([sys.executable, "-c", PROBE.format(arg=arg)], capture_output=True, text=True, check=True)
    assert out.stdout.strip().endswith("HEAVY:"), out.stdout[-300:]


def test_version_and_module_entry_point():
    out = subprocess.run([sys.executable, "-m", "lora_audit", "--version"], capture_output=True, text=True)
    assert out.returncode == 0
    assert out.stdout.strip() == f"lora-audit {lora_audit.__version__}"


def test_help_shows_the_audit_options():
    out = subprocess.run([sys.executable, "-m", "lora_audit", "--help"], capture_output=True, text=True)
    assert out.returncode == 0
    for flag in ("--targets", "--modules-to-save", "--format", "--fail-on", "--rank-pattern", "Exit codes"):
        assert flag in out.stdout


@pytest.mark.slow
def test_an_audit_prints_nothing_on_stderr_when_bitsandbytes_is_installed(tmp_path):
    """bitsandbytes (in the test extra, as in most QLoRA environments) logs at import that it found no hub kernel."""
    pytest.importorskip("bitsandbytes")
    env = {**os.environ, "LORA_AUDIT_NO_PROGRESS": "1", "LORA_AUDIT_CACHE_DIR": str(tmp_path)}
    out = subprocess.run([sys.executable, "-m", "lora_audit", "Qwen/Qwen2.5-0.5B", "--targets", "q_proj", "--offline",
                          "--fail-on", "never"], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0 and "trainable" in out.stdout
    assert out.stderr == ""
