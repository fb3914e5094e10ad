"""The JSON report: ``Report.to_dict()``, validated by ``schema/report.schema.json``; and writing it atomically."""

from __future__ import annotations

import contextlib
import json
import os
import stat
import tempfile
from pathlib import Path
from typing import Any

from lora_audit.guards.files import open_for_writing
from lora_audit.render._base import RenderOptions, Result
from lora_audit.report import Report

NAME = "json"


def render(result: Result, options: RenderOptions) -> str:
    """The JSON report (``Report.to_dict()``), or a check run's document."""
    return render_json(result) if isinstance(result, Report) else dumps(result.to_dict())


def render_json(report: Report) -> str:
    return report.to_json(indent=2) + "\n"


def dumps(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2) + "\n"


def write_atomic(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename: readers never see half a file.

    A symlink is followed first: the temporary file goes beside the file it points to, and the
    rename replaces that file, so the link stays a link and its readers still see whole files. Only a
    regular file (or a new one) is replaced that way. Anything else (/dev/stdout, a FIFO) is written
    through: renaming over /dev/null as root would replace the device itself. The temporary name has a
    fixed length, so a target name near the file system's limit still works.
    """
    target = Path(os.path.realpath(path))
    try:
        regular = stat.S_ISREG(os.stat(target).st_mode)
    except FileNotFoundError:
        regular = True
    if not regular:
        # /dev/stdout or a pipe with a reader; a FIFO nobody reads fails at once (ENXIO) rather than waiting
        with open_for_writing(target) as handle:
            handle.write(text)
        return
    fd, tmp = tempfile.mkstemp(prefix=".lora-audit-", suffix=".tmp", dir=target.parent)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; a report is an ordinary file
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
