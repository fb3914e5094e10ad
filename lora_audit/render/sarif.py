"""SARIF 2.1.0 for code scanning (GitHub's upload-sarif, and any SARIF viewer).

One run; ``tool.driver.rules`` lists every rule with its documentation; one result per finding,
with ``ruleId``, ``level``, the message and the fix, a location (see ``_ci.where``), stable
``partialFingerprints``, and ``suppressions`` (with the reason) for suppressed findings.
A pure function of the reports. Spec: https://docs.oasis-open.org/sarif/sarif/v2.1.0/ (errata01).
"""

from __future__ import annotations

import json
from typing import Any

from lora_audit._version import __version__
from lora_audit.render import _ci
from lora_audit.render._base import RenderOptions, Result
from lora_audit.render.escape import sarif_uri
from lora_audit.report import Finding, Report
from lora_audit.rules import RULES, Rule

NAME = "sarif"
SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
INFORMATION_URI = "https://github.com/lora-audit/lora-audit"
RULES_DOC = INFORMATION_URI + "/blob/main/docs/rules.md"
LEVELS = {"error": "error", "warning": "warning", "info": "note"}
FINGERPRINT_KEY = "loraAudit/v1"


def render(result: Result, options: RenderOptions) -> str:
    """SARIF 2.1.0 for code scanning; paths relative to ``options.root``."""
    return render_sarif(result, options.root)


def render_sarif(reports: _ci.Reports, root: str | None = None) -> str:
    return json.dumps(sarif_document(reports, root), indent=2) + "\n"


def sarif_document(reports: _ci.Reports, root: str | None = None) -> dict[str, Any]:
    index = {rule.code: i for i, rule in enumerate(RULES)}
    results = []
    for report in _ci.as_reports(reports):
        for finding in report.findings:
            results.append(_result(report, finding, index, root))
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "lora-audit",
                "version": __version__,
                "informationUri": INFORMATION_URI,
                "rules": [_rule(rule) for rule in RULES],
            }
        },
        "results": results,
    }
    errors = _ci.pair_errors(reports)
    if errors:
        # Pairs of a check run that could not be audited: the run did not complete.
        run["invocations"] = [{
            "executionSuccessful": False,
            "toolExecutionNotifications": [
                {"level": "error", "message": {"text": f"{label}: {error['message']}. {error['hint']}"},
                 "descriptor": {"id": error["code"]}}
                for label, _config, error in errors
            ],
        }]
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def _rule(rule: Rule) -> dict[str, Any]:
    sections = rule.sections()
    full = sections.get("What it checks") or rule.summary
    why = sections.get("Why it matters")
    fix = sections.get("Fix")
    help_text = "\n\n".join(part for part in (full, why and f"Why it matters: {why}", fix and f"Fix: {fix}") if part)
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": " ".join(full.split())},
        "help": {"text": help_text, "markdown": f"**{rule.code} {rule.name}**: {rule.summary}\n\n{help_text}"},
        "helpUri": f"{RULES_DOC}#{rule.code.lower()}-{rule.name}",
        "defaultConfiguration": {"level": LEVELS[rule.severity]},
    }


def _result(report: Report, finding: Finding, index: dict[str, int], root: str | None) -> dict[str, Any]:
    place = _ci.where(report, finding, root)
    region = {"startLine": place.line or 1}
    result: dict[str, Any] = {
        "ruleId": finding.code,
        "level": LEVELS[finding.severity],
        "message": {"text": f"{finding.subject}: {finding.message}\nfix: {finding.hint}"},
        "locations": [{"physicalLocation": {"artifactLocation": {"uri": sarif_uri(place.file)}, "region": region}}],
        "partialFingerprints": {FINGERPRINT_KEY: _ci.fingerprint(report, finding, root)},
        "properties": {"subject": finding.subject, "fix": finding.hint, "model": _ci.model_name(report, root),
                       "name": finding.name},
    }
    if finding.code in index:
        result["ruleIndex"] = index[finding.code]
    if finding.suppressed:
        result["suppressions"] = [{"kind": "external", "justification": finding.suppression_reason or "suppressed"}]
    return result
