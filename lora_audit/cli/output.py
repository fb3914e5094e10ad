"""Where reports go: the chosen format on stdout, ``--json PATH``, and GitHub's job summary.

The renderers (``lora_audit.render``, one module per format) are pure functions of the report that
return text; this module only picks one by name and writes what it returns (``--json PATH`` is
written by the CLI, atomically). For the terminal format it first asks rich what stdout is (a
terminal or not, its width, its colours), so the text is drawn for it.
``--format github`` is the default when ``GITHUB_ACTIONS=true`` and no ``--format`` was given;
with it, when ``$GITHUB_STEP_SUMMARY`` names a file, the markdown report is appended there.
"""

from __future__ import annotations

import os

from rich.console import Console

from lora_audit import render
from lora_audit.cli import streams
from lora_audit.guards.files import describe, open_for_writing
from lora_audit.render import RenderOptions, Result, TerminalSpec
from lora_audit.render._base import COLOR_SYSTEMS

FORMATS = render.FORMATS
SUMMARY_ENV = "GITHUB_STEP_SUMMARY"


def resolve_format(fmt: str | None) -> str:
    if fmt is not None:
        return fmt
    return "github" if os.environ.get("GITHUB_ACTIONS") == "true" else "terminal"


def json_text(result: Result) -> str:
    return render.render("json", result)


def markdown_text(result: Result) -> str:
    return render.render("markdown", result)


def stdout_terminal() -> TerminalSpec:
    """What stdout is, as rich sees it (a terminal or not, width, colour system)."""
    console = Console(file=streams.stdout_for_rich(), highlight=False, soft_wrap=False)
    return TerminalSpec(width=console.width, color_system=COLOR_SYSTEMS.get(console.color_system or ""),
                        is_terminal=console.is_terminal, legacy_windows=console.legacy_windows,
                        no_color=console.no_color)


def emit(result: Result, fmt: str, tree: bool = False, coverage: bool = False) -> None:
    """Write ``result`` (a Report, or a check run's CheckReport) in ``fmt`` to stdout."""
    terminal = stdout_terminal() if fmt == "terminal" else TerminalSpec()
    options = RenderOptions(tree=tree, coverage=coverage, root=os.getcwd(), terminal=terminal)
    streams.write_out(render.render(fmt, result, options))
    summary = os.environ.get(SUMMARY_ENV)
    if fmt == "github" and summary:
        append_summary(summary, markdown_text(result))


def append_summary(path: str, markdown: str) -> None:
    """Append to the job summary; a summary file that cannot be written never fails the audit."""
    try:
        with open_for_writing(path, append=True) as handle:
            handle.write(markdown + "\n")
    except OSError as exc:
        streams.write_err(f"lora-audit: warning: cannot append to ${SUMMARY_ENV} ({path}): {describe(exc)}\n")
