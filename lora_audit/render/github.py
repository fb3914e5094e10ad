"""GitHub Actions workflow commands: one annotation per active finding, on the file and line.

``::error file=train/lora.yaml,line=7,title=LA001 target-unmatched::c_proj: ... fix: ...``; info
findings are notices, suppressed ones are not annotated. Escaping follows GitHub's toolkit
(``@actions/core`` command.ts): in the message ``%``, ``\\r`` and ``\\n``; in properties also ``:``
and ``,``. A model that is not a local file gets no ``file=`` (the annotation goes to the run).
A pure function of the reports.
"""

from __future__ import annotations

from lora_audit.render import _ci
from lora_audit.render._base import RenderOptions, Result
from lora_audit.render._common import summary_line
from lora_audit.render.escape import github_data as escape_data
from lora_audit.render.escape import github_property as escape_property
from lora_audit.render.escape import sanitized, visible

NAME = "github"
COMMANDS = {"error": "error", "warning": "warning", "info": "notice"}


def render(result: Result, options: RenderOptions) -> str:
    """GitHub workflow commands, one annotation per finding; paths relative to ``options.root``."""
    return render_github(result, options.root)


def render_github(reports: _ci.Reports, root: str | None = None) -> str:
    # Strings from inputs shown, never obeyed: no newline, control character, ``::`` or ``##[`` of theirs
    # reaches the log (render/escape.py); then GitHub's own escaping of data and properties.
    reports = sanitized(reports, visible)
    lines = []
    for label, config, error in _ci.pair_errors(reports):
        props = [f"file={escape_property(_ci._relative(config, root))}"] if config else []
        props.append(f"title={escape_property('lora-audit ' + error['code'])}")
        text = f"{label}: {error['message']}. {error['hint']}"
        lines.append(f"::error {','.join(props)}::{escape_data(text)}")
    for report in _ci.as_reports(reports):
        for finding in report.active_findings:
            place = _ci.where(report, finding, root)
            props = []
            if place.is_file:
                props.append(f"file={escape_property(place.file)}")
                if place.line:
                    props.append(f"line={place.line}")
            props.append(f"title={escape_property(f'{finding.code} {finding.name}')}")
            message = f"{finding.subject}: {finding.message}\nfix: {finding.hint}"
            if not place.is_file:
                message = f"{_ci.model_name(report, root)}: {message}"
            lines.append(f"::{COMMANDS[finding.severity]} {','.join(props)}::{escape_data(message)}")
        lines.append(f"lora-audit: {_ci.model_name(report, root)}: {summary_line(report)}")
    return "\n".join(lines) + "\n"
