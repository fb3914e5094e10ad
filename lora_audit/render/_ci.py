"""What the CI formats (SARIF, GitHub, GitLab) and the baseline share: where a finding points, and its identity.

A finding points at ``Finding.location`` (the config file and line its entry came from, filled by
the front-ends) when it is set; else at the model's ``config.json`` when the model is a local file;
else at the model id (a hub model has no file in the repository). Its identity, for code scanning's
``partialFingerprints``, GitLab's ``fingerprint`` and the baseline, is its code, subject and file:
never the message, which may be reworded between versions.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeAlias

from lora_audit.report import Finding, Report

if TYPE_CHECKING:
    from lora_audit.cli.batch import CheckReport

#: What the CI formats render: one report, several, or a ``lora-audit check`` run.
Reports: TypeAlias = "Report | Sequence[Report] | CheckReport"

#: Model sources whose ``ModelInfo.source`` is the path of the config.json that was read.
LOCAL_KINDS = ("local-dir", "local-file")


@dataclass(frozen=True)
class Where:
    file: str  #: a path (relative to ``root`` when under it, with ``/``), or the model id
    line: int | None
    is_file: bool  #: False: ``file`` is a model id, not a path in the repository


def where(report: Report, finding: Finding, root: str | None = None) -> Where:
    loc = finding.location
    if loc is not None and loc.file:
        line = loc.line
        return Where(_relative(loc.file, root), line if line is not None and line > 0 else None, True)
    if report.model.source_kind in LOCAL_KINDS:
        return Where(_relative(report.model.source, root), None, True)
    return Where(report.model.name, None, False)


def model_name(report: Report, root: str | None = None) -> str:
    """The model as asked for; a local path relative to ``root`` (so it reads, and hashes, the same in any clone)."""
    name = report.model.name
    return _relative(name, root) if report.model.source_kind in LOCAL_KINDS else name


def _relative(path: str, root: str | None) -> str:
    if root is not None and os.path.isabs(path):
        rel = os.path.relpath(path, root)
        if not rel.startswith(".."):
            path = rel
    return path.replace(os.sep, "/")


def identity(report: Report, finding: Finding, root: str | None = None) -> tuple[str, str, str]:
    """(code, subject, file): how a finding is recognised across runs (baseline, fingerprints)."""
    return finding.code, finding.subject, where(report, finding, root).file


def fingerprint(report: Report, finding: Finding, root: str | None = None) -> str:
    """A stable hex digest of the finding's identity and model (not its message)."""
    code, subject, file = identity(report, finding, root)
    text = "\0".join((code, subject, file, model_name(report, root)))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def as_reports(reports: Reports) -> list[Report]:
    """One report, a list of them, or a ``lora-audit check`` run (its reports), as a list."""
    if isinstance(reports, Report):
        return [reports]
    if isinstance(reports, Sequence):
        return list(reports)
    return list(reports.reports)


def pair_errors(reports: Reports) -> list[tuple[str, str | None, dict[str, str]]]:
    """A check run's pairs that could not be audited: (label, config file, error as a dict)."""
    if isinstance(reports, (Report, Sequence)):
        return []
    return [(r.pair.label, r.pair.config, r.error.to_dict()) for r in reports.results
            if r.report is None and r.error is not None]
