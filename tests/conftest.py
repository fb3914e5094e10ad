"""Shared fixtures: paths, the JSON Schema validator, and an in-process CLI runner."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
MODELS = FIXTURES / "models"
TINY = FIXTURES / "tiny"
LORA = FIXTURES / "lora"
SCHEMA = ROOT / "lora_audit" / "schema" / "report.schema.json"


@pytest.fixture(autouse=True)
def _offline_and_isolated(monkeypatch, tmp_path_factory):
    """No test may reach the network or read the developer's HF cache, result cache or pyproject settings."""
    import huggingface_hub.constants as hub_constants

    home = tmp_path_factory.mktemp("hf_home")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(home))
    monkeypatch.setenv("LORA_AUDIT_NO_PROGRESS", "1")
    # The result cache lives in a fresh folder per test: never the developer's (or CI's) user cache.
    monkeypatch.setenv("LORA_AUDIT_CACHE_DIR", str(tmp_path_factory.mktemp("lora_audit_cache")))
    for name in ("GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY", "LORA_AUDIT_NO_CACHE"):
        monkeypatch.delenv(name, raising=False)  # CI's own environment must not change what the tests see
    # huggingface_hub reads these at import time: patch the live values too.
    monkeypatch.setattr(hub_constants, "HF_HUB_CACHE", str(home / "hub"))
    monkeypatch.setattr(hub_constants, "HF_HUB_OFFLINE", True)


@pytest.fixture(scope="session")
def validate():
    """Validate a JSON document (str or parsed) against the shipped schema; returns the parsed document."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text()))

    def check(document):
        data = json.loads(document) if isinstance(document, str) else document
        errors = sorted(validator.iter_errors(data), key=lambda e: list(e.path))
        assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:5])
        return data

    return check


@dataclass
class CliResult:
    code: int
    out: str
    err: str

    def json(self):
        return json.loads(self.out)


@pytest.fixture
def cli(capsys, monkeypatch, tmp_path, validate):
    """Run ``lora-audit ARGS`` in this process (torch is already imported): exit code, stdout, stderr.

    Whatever it prints with ``--format json`` is validated against the shipped schema.
    """
    from lora_audit.cli import main

    monkeypatch.chdir(tmp_path)  # no pyproject.toml of ours in sight
    monkeypatch.setenv("COLUMNS", "100")

    def run(*args: str) -> CliResult:
        capsys.readouterr()
        try:
            main([str(a) for a in args])
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
        captured = capsys.readouterr()
        args = [str(a) for a in args]
        if "--format" in args and args[args.index("--format") + 1 :][:1] == ["json"] and captured.out.strip():
            validate(captured.out)
        return CliResult(code, captured.out, captured.err)

    return run


@pytest.fixture
def fake_hub(monkeypatch):
    """A local fake hub, with huggingface_hub pointed at it and online."""
    import huggingface_hub.constants as hub_constants

    from tests.fakehub import FakeHub, start

    hub = FakeHub()
    server = start(hub)
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setattr(hub_constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(hub_constants, "ENDPOINT", hub.url)
    template = hub.url + "/{repo_id}/resolve/{revision}/{filename}"
    monkeypatch.setattr(hub_constants, "HUGGINGFACE_CO_URL_TEMPLATE", template)
    yield hub
    server.shutdown()


def catalogue_dirs() -> list[str]:
    return sorted(p.name for p in MODELS.iterdir() if (p / "config.json").is_file())


def pytest_configure(config):
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
