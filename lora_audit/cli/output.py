"""Where reports go: the chosen format on stdout, ``--json PATH``, and GitHub's job summary.

The renderers are pure functions of the report; this module only picks one and writes it
(``--json PATH`` is written by the CLI, atomically).
``--format github`` is the default when ``GITHUB_ACTIONS=true`` and no ``--format`` was given;
with it, when ``$GITHUB_STEP_SUMMARY`` names a file, the markdown report is appended there.
"""

from __future__ import annotations

import os
from typing import Any

from rich.console import Console

from lora_audit.cli import streams
from lora_audit.render import markdown
from lora_audit.render.check import render_check_markdown, render_check_terminal
from lora_audit.render.github import render_github
from lora_audit.render.gitlab import render_gitlab
from lora_audit.render.json_report import dumps, render_json
from lora_audit.render.sarif import render_sarif
from lora_audit.render.terminal import render_terminal

FORMATS = ("terminal", "json", "markdown", "sarif", "github", "gitlab")
SUMMARY_ENV = "GITHUB_STEP_SUMMARY"


def resolve_format(fmt: str | None) -> str:
    if fmt is not None:
        return fmt
    return "github" if os.environ.get("GITHUB_ACTIONS") == "true" else "terminal"


def is_check(result: Any) -> bool:
    return hasattr(result, "results")


def json_text(result: Any) -> str:
    return dumps(result.to_dict()) if is_check(result) else render_json(result)


def markdown_text(result: Any) -> str:
    if is_check(result):
        return render_check_markdown(result)

    return markdown.render_markdown(result)


def emit(result: Any, fmt: str, tree: bool = False, coverage: bool = False) -> None:
    """Write ``result`` (a Report, or a check run's CheckReport) in ``fmt`` to stdout."""
    root = os.getcwd()
    if fmt == "json":
        streams.write_out(json_text(result))
    elif fmt == "markdown":
        streams.write_out(markdown_text(result))
    elif fmt == "sarif":
        streams.write_out(render_sarif(result, root))
    elif fmt == "gitlab":
        streams.write_out(render_gitlab(result, root))
    elif fmt == "github":
        streams.write_out(render_github(result, root))
        summary = os.environ.get(SUMMARY_ENV)
        if summary:
            append_summary(summary, markdown_text(result))
    else:
        console = Console(file=streams.stdout_for_rich(), highlight=False, soft_wrap=False)
        if is_check(result):
            render_check_terminal(result, console)
        else:
            render_terminal(result, console, tree=tree, coverage=coverage)


def append_summary(path: str, markdown: str) -> None:
    """Append to the job summary; a summary file that cannot be written never fails the audit."""
    try:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(markdown + "\n")
    except OSError as exc:
        streams.write_err(f"lora-audit: warning: cannot append to ${SUMMARY_ENV} ({path}): {exc.strerror}\n")
