"""Run the rules over the report's facts and attach findings.

Rules are pure functions of the report. Settings decide which rules run (``select``), their
severity, and which findings are suppressed; a suppressed finding stays in the report, marked,
with its reason.
"""

from __future__ import annotations

from lora_audit.report import Finding, Report
from lora_audit.rules import RULES
from lora_audit.rules.settings import Settings


def run_rules(report: Report, settings: Settings | None = None) -> list[Finding]:
    settings = settings or Settings()
    selected = set(settings.select) if settings.select else None
    findings: list[Finding] = []
    source = report.lora_config_source
    method, prompt_learning = report.method.peft_type, report.method.prompt_learning
    for rule in RULES:
        if selected is not None and rule.code not in selected:
            continue
        if not rule.applies_to(method, prompt_learning):
            continue
        options = {**rule.options, **settings.options.get(rule.code, {})}
        for problem in rule.check(report, options):
            finding = Finding(
                code=rule.code,
                name=rule.name,
                severity=settings.severity.get(rule.code) or problem.severity or rule.severity,
                subject=problem.subject,
                message=problem.message,
                hint=problem.hint,
                location=source.location_of(problem.subject) if source is not None else None,
            )
            reason = settings.ignore.get(f"{rule.code}:{problem.subject}", settings.ignore.get(rule.code))
            if reason is not None:
                finding.suppressed, finding.suppression_reason = True, reason
            findings.append(finding)
    order = {"error": 0, "warning": 1, "info": 2}
    findings.sort(key=lambda f: (f.suppressed, order[f.severity], f.code))
    return findings

