"""`lora-audit --help` and `--version` answer without importing torch, transformers or peft."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import lora_audit

PROBE = """
import sys
from pathlib import Path
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


FAST_FAILURE = """
import sys
from pathlib import Path
for name in {block!r}:
    sys.modules[name] = None  # as if not installed: importlib.util.find_spec answers None
from lora_audit.cli.app import main
try:
    main({args!r})
except SystemExit as exit:
    print("EXIT:" + str(exit.code))
print("HEAVY:" + ",".join(m for m in ("torch", "transformers", "peft") if m in sys.modules))
"""
FIXTURES_DIR = Path(__file__).resolve().parents[3] / "fixtures"


@pytest.mark.parametrize(("args", "block", "code", "said"), [
    (["./no-such-model", "--targets", "q_proj"], (), "2", "no such file or directory"),
    (["org/not-cached-anywhere", "--targets", "q_proj", "--offline"], (), "2", "neither in the local"),
    ([str(FIXTURES_DIR / "timm" / "vit_base_patch16_224.augreg2_in21k_ft_in1k"), "--targets", "qkv"], ("timm",),
     "2", "timm is not installed"),
    (["black-forest-labs/FLUX.1-dev", "--targets", "to_q", "--offline"], ("diffusers",), "2",
     "diffusers is not installed"),
    (["check", "settings.json"], (), "0", "skipped settings.json: not a LoRA config"),
], ids=["missing-model", "not-cached", "timm-missing", "diffusers-missing", "check-skips"])
def test_fast_failures_import_no_heavy_library(tmp_path, args, block, code, said):
    """Said before torch, transformers and peft are imported (their import takes 5-7 s, 12-37 s under load)."""
    (tmp_path / "settings.json").write_text('{"editor.tabSize": 4}')
    env = {**os.environ, "LORA_AUDIT_CACHE_DIR": str(tmp_path / "cache"), "LORA_AUDIT_NO_PROGRESS": "1"}
    out = subprocess.run([sys.executable, "-c", FAST_FAILURE.format(args=args, block=block)], cwd=tmp_path,
                         capture_output=True, text=True, env=env, timeout=120)
    lines = out.stdout.strip().splitlines()
    assert lines[-2:] == [f"EXIT:{code}", "HEAVY:"], (out.stdout[-500:], out.stderr[-500:])
    assert said in " ".join(out.stderr.split())
