"""Helpers shared by the hostile-input tests: the one-line exit-2 check and hostile files."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest

from tests.conftest import ROOT, TINY

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


def _case(setup, code: str, *fragments: str, id: str):
    """One bad input: ``setup(tmp_path)`` gives the arguments; the error code and fragments of its line."""
    return pytest.param(setup, code, fragments, id=id)
