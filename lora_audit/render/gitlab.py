"""GitLab code quality: a Code Climate JSON array (``artifacts: reports: codequality``), as ruff's ``gitlab`` format.

One issue per active finding: ``description``, ``check_name`` (the code), ``fingerprint`` (stable:
code, subject, file, model; never the message), ``severity`` and ``location.path`` /
``location.lines.begin``. Suppressed findings are left out. A pure function of the reports.
Format: https://docs.gitlab.com/ci/testing/code_quality/#code-quality-report-format
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from lora_audit.render import _ci
from lora_audit.render._base import RenderOptions, Result

NAME = "gitlab"
SEVERITIES = {"error": "major", "warning": "minor", "info": "info"}


def render(result: Result, options: RenderOptions) -> str:
    """GitLab's Code Climate JSON; paths relative to ``options.root``."""
    return render_gitlab(result, options.root)


def render_gitlab(reports: _ci.Reports, root: str | None = None) -> str:
    issues: list[dict[str, Any]] = []
    for label, config, error in _ci.pair_errors(reports):
        path = _ci._relative(config, root) if config else label
        issues.append({
            "description": f"lora-audit could not audit {label}: {error['message']} ({error['hint']})",
            "check_name": f"lora-audit/{error['code']}",
            "fingerprint": hashlib.sha256(f"{error['code']}\0{label}".encode()).hexdigest(),
            "severity": "blocker",
            "location": {"path": path, "lines": {"begin": 1}},
        })
    for report in _ci.as_reports(reports):
        for finding in report.active_findings:
            place = _ci.where(report, finding, root)
            issues.append({
                "description": f"{finding.code} {finding.subject}: {finding.message} (fix: {finding.hint})",
                "check_name": finding.code,
                "fingerprint": _ci.fingerprint(report, finding, root),
                "severity": SEVERITIES[finding.severity],
                "location": {"path": place.file, "lines": {"begin": place.line or 1}},
            })
    return json.dumps(issues, indent=2) + "\n"
