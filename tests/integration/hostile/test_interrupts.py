"""Interrupts: Ctrl-C at any point, in any disguise, exits 130 with one line."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from tests.integration.hostile.helpers import (
    QWEN,
)


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
