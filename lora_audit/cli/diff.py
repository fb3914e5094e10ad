"""``lora-audit diff A B``: load both sides, compare, print (terminal, markdown or JSON)."""

from __future__ import annotations

import sys

import click

from lora_audit.adapter.diff import diff, load_side, trainable_on
from lora_audit.cli import common, streams
from lora_audit.cli.options import offline_option
from lora_audit.errors import AuditError
from lora_audit.render.diff import render, render_diff_json


@click.command("diff")
@click.argument("first", metavar="A")
@click.argument("second", metavar="B")
@click.option("--base", metavar="MODEL", help="Also count PEFT's trainable parameters of each side on MODEL.")
@offline_option
@click.option("--format", "fmt", type=click.Choice(("terminal", "json", "markdown")), default="terminal",
              show_default=True)
def diff_command(first: str, second: str, base: str | None, offline: bool | None, fmt: str) -> None:
    """Compare two adapters (A B), or two LoRA configs: fields, adapted modules, sizes and shapes.

    Exit codes, as diff(1): 0 when A and B are the same, 1 when they differ, 2 when one cannot be read.
    """
    try:
        sys.exit(run_diff(first, second, fmt, base, offline))
    except AuditError as exc:
        common.fail(exc, fmt, None)


def run_diff(first: str, second: str, fmt: str, base: str | None = None, offline: bool | None = None) -> int:
    a, b = load_side(first, offline), load_side(second, offline)
    if base is not None:
        a.trainable, b.trainable = trainable_on(base, a, offline), trainable_on(base, b, offline)
    result = diff(a, b)
    streams.write_out(render_diff_json(result) if fmt == "json" else render(result, markdown=fmt == "markdown"))
    return 1 if result.differs else 0
