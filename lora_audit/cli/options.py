"""The click options that ``lora-audit MODEL`` (cli.py) and ``lora-audit check`` (check_cmd.py) share.

One definition each, so the two commands cannot drift apart in names, choices or help.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from lora_audit.cli.output import FORMATS
from lora_audit.config.lora_config import parse_list
from lora_audit.report import FAIL_LEVELS


def csv_list(ctx: click.Context, param: click.Parameter, value: str | None) -> list[str] | None:
    """A comma list flag (``--select LA001,LA003``) as a list; a bad list is a usage error."""
    code = "usage" if param.name in ("select", "ignore") else "invalid-lora-value"
    return parse_list(value, param.opts[0] if param.opts else "", code)


offline_option = click.option(
    "--offline", is_flag=True, default=None, help="Never contact the hub (as HF_HUB_OFFLINE=1)."
)


def report_options(json_what: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """--format, --json, --fail-on, --select, --ignore, --baseline, --write-baseline, --no-cache."""
    options = [
        click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
                     help="Report format on stdout.  [default: terminal; github when GITHUB_ACTIONS=true]"),
        click.option("--json", "json_path", metavar="PATH", help=f"Also write {json_what} to PATH (atomically)."),
        click.option("--fail-on", type=click.Choice(FAIL_LEVELS),
                     help="Exit 1 when a finding is at or above this severity.  [default: error]"),
        click.option("--select", callback=csv_list, metavar="CODES", help="Run only these rules (codes or names)."),
        click.option("--ignore", callback=csv_list, metavar="CODES",
                     help="Suppress these rules' findings (still shown, marked suppressed). CODE:subject works too."),
        click.option("--baseline", metavar="FILE",
                     help="Findings listed in FILE do not fail the run (shown as suppressed)."),
        click.option("--write-baseline", metavar="FILE",
                     help="Record today's findings in FILE (for --baseline); this run still exits on them as usual."),
        click.option("--no-cache", is_flag=True, help="Do not answer from, or write to, the result cache."),
    ]

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed(options):
            command = option(command)
        return command

    return decorate
