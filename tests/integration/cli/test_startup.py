"""`lora-audit --help` and `--version` answer without importing torch, transformers or peft."""

from __future__ import annotations

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
