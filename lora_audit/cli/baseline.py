"""The baseline: findings a project has accepted for now, so CI fails only on new ones.

``--write-baseline FILE`` records every active finding as (code, subject, file); ``--baseline
FILE`` then marks the findings it lists as suppressed ("in the baseline FILE"), so they stay in
every report but no longer fail the run. A finding is recognised by its code, its subject and the
file it points at (see ``render/_ci.py``), never by its message, which may be reworded.

The file is JSON, sorted, meant to be committed::

    {"lora_audit_baseline": 1, "findings": [{"code": "LA001", "subject": "c_proj", "file": "Qwen/Qwen2.5-0.5B"}]}
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence

from lora_audit.errors import AuditError
from lora_audit.guards.files import describe, read_regular_text
from lora_audit.render import _ci
from lora_audit.render.json_report import write_atomic
from lora_audit.report import Report

FORMAT = 1
#: A baseline is a list of (code, subject, file): a bigger file is not one.
MAX_BASELINE_BYTES = 64 * 1024 * 1024
Key = tuple[str, str, str]


def read_baseline(path: str | os.PathLike[str]) -> set[Key]:
    def bad(why: str) -> AuditError:
        return AuditError("baseline-invalid", f"baseline {os.fspath(path)}: {why}",
                          "write one with --write-baseline FILE, or fix the file")

    try:
        data = json.loads(read_regular_text(path, MAX_BASELINE_BYTES))
    except FileNotFoundError:
        raise bad("no such file") from None
    except OSError as exc:
        raise bad(describe(exc)) from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise bad(f"not readable JSON ({exc})") from None
    if not isinstance(data, dict) or data.get("lora_audit_baseline") != FORMAT:
        raise bad(f'not a lora-audit baseline (expected {{"lora_audit_baseline": {FORMAT}, "findings": [...]}})')
    entries = data.get("findings")
    if not isinstance(entries, list):
        raise bad("findings must be a list")
    keys: set[Key] = set()
    for entry in entries:
        if not isinstance(entry, dict) or not all(isinstance(entry.get(k), str) for k in ("code", "subject", "file")):
            raise bad("each finding needs code, subject and file (strings)")
        keys.add((entry["code"], entry["subject"], entry["file"]))
    return keys


def baseline_text(reports: Sequence[Report], root: str | None = None) -> str:
    keys = sorted({_ci.identity(r, f, root) for r in reports for f in r.active_findings})
    entries = [{"code": c, "subject": s, "file": f} for c, s, f in keys]
    return json.dumps({"lora_audit_baseline": FORMAT, "findings": entries}, indent=2) + "\n"


def write_baseline(path: str | os.PathLike[str], reports: Sequence[Report], root: str | None = None) -> None:
    try:
        write_atomic(path, baseline_text(reports, root))
    except (OSError, ValueError) as exc:
        why = describe(exc) if isinstance(exc, OSError) else exc
        raise AuditError("baseline-unwritable", f"cannot write the baseline to {os.fspath(path)}: {why}",
                         "pass --write-baseline a file path in an existing, writable directory") from None


def apply_baseline(report: Report, keys: set[Key], path: str | os.PathLike[str], root: str | None = None) -> int:
    """Suppress the active findings listed in the baseline; returns how many."""
    count = 0
    for finding in report.active_findings:
        if _ci.identity(report, finding, root) in keys:
            finding.suppressed = True
            finding.suppression_reason = f"in the baseline {os.fspath(path)}"
            count += 1
    order = {"error": 0, "warning": 1, "info": 2}
    report.findings.sort(key=lambda f: (f.suppressed, order[f.severity], f.code))  # as check.run_rules orders them
    return count
