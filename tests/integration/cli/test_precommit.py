"""The pre-commit hook, run by pre-commit itself (``pre-commit try-repo``) on a throwaway repository.

The ``lora-audit`` hook is ``language: system``: it runs the lora-audit of the environment, so this
works offline (the ``lora-audit-isolated`` hook would pip-install torch into pre-commit's own
environment). ``lora-audit`` on PATH must be this checkout's: PYTHONPATH points it here.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import LORA, ROOT

QWEN = "Qwen/Qwen2.5-0.5B"


def test_the_hooks_file_is_valid():
    from pre_commit.clientlib import load_manifest

    hooks = {hook["id"]: hook for hook in load_manifest(str(ROOT / ".pre-commit-hooks.yaml"))}
    assert set(hooks) == {"lora-audit", "lora-audit-isolated"}
    assert all(h["entry"] == "lora-audit check" for h in hooks.values())


def git(folder: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=folder, check=True, capture_output=True)


@pytest.fixture
def repos(tmp_path):
    """A hook repository (our .pre-commit-hooks.yaml) and a project repository with a bad LoRA config."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    hook_repo = tmp_path / "hooks"
    hook_repo.mkdir()
    shutil.copy(ROOT / ".pre-commit-hooks.yaml", hook_repo)
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(LORA / "tutorial-gpt2-names.json", project / "lora.json")
    shutil.copy(LORA / "qwen-attention.yaml", project / "good.yaml")
    (project / "package.json").write_text(json.dumps({"name": "not-a-lora-config"}))
    (project / "notes.yaml").write_text(yaml.safe_dump({"owner": "ml-team", "purpose": "not a LoRA config"}))
    (project / "pyproject.toml").write_text(
        f'[tool.lora-audit]\naudits = [{{ model = "{QWEN}", config = "lora.json" }}]\n')
    for repo in (hook_repo, project):
        git(repo, "init", "-q")
        git(repo, "config", "user.email", "ci@example.invalid")
        git(repo, "config", "user.name", "ci")
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", "init")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
           "HF_HUB_OFFLINE": "1", "NO_COLOR": "1"}
    env.pop("GITHUB_ACTIONS", None)
    return hook_repo, project, env


def try_repo(hook_repo, project, env, *args):
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(hook_repo), "lora-audit", "--verbose", *args],
        cwd=project, env=env, capture_output=True, text=True, timeout=600,
    )


@pytest.mark.slow
def test_pre_commit_runs_the_hook_and_it_fails_on_the_finding(repos):
    hook_repo, project, env = repos
    done = try_repo(hook_repo, project, env, "--all-files")
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "lora-audit" in output and "Failed" in output
    assert "LA001 error   lora.json:4: c_proj: target_modules entry 'c_proj'" in output
    # notes.yaml and package.json are not LoRA configs: skipped, not failures
    assert "skipped notes.yaml: not a LoRA config" in output
    assert "package.json" not in output  # excluded by the hook's own pattern
    # good.yaml has no model: a LoRA config the hook cannot place fails with the fix
    assert "good.yaml names no model to audit it against. pass --model MODEL" in output


@pytest.mark.slow
def test_the_hook_passes_on_a_good_config(repos):
    hook_repo, project, env = repos
    done = try_repo(hook_repo, project, env, "--files", "notes.yaml")
    assert done.returncode == 0, done.stdout + done.stderr
    (project / "lora.json").write_text(json.dumps({"r": 8, "target_modules": ["q_proj", "v_proj"]}))
    done = try_repo(hook_repo, project, env, "--files", "lora.json")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Passed" in done.stdout


def test_the_action_installs_runs_annotates_and_uploads():
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    steps = action["runs"]["steps"]
    runs = "\n".join(step.get("run", "") for step in steps)
    # lora-audit is not on PyPI: the action installs its own checkout, after the CPU torch
    assert runs.index('pip install "torch==') < runs.index('pip install "${{ github.action_path }}"')
    assert "lora-audit-cli" not in runs
    assert "lora-audit check --format sarif" in runs and "lora-audit check --format github" in runs
    upload = [s for s in steps if s.get("uses", "").startswith("github/codeql-action/upload-sarif@")]
    assert upload and upload[0]["with"]["sarif_file"] == "${{ inputs.sarif-file }}"
    assert all(step.get("shell") == "bash" for step in steps if "run" in step)
