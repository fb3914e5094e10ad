"""``lora-audit check``'s terminal and markdown renderings: a per-pair summary table, then each pair's findings.

Pure functions of the :class:`~lora_audit.cli.batch.CheckReport` (the JSON, SARIF, GitHub and GitLab
formats render its reports with their usual renderers).
"""

from __future__ import annotations

from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text
from tabulate import tabulate

from lora_audit.render.markdown import render_markdown
from lora_audit.render.terminal import _findings, _print_whole, plain_findings

HEADERS = ["model", "config", "errors", "warnings", "infos", "suppressed", "result"]


def summary_rows(check: Any) -> list[list[str]]:
    rows = []
    for result in check.results:
        pair = result.pair
        model = pair.model or "(from config)"
        config = pair.config or "(flags)"
        if result.report is None:
            code = result.error.code if result.error else "error"
            rows.append([model, config, "-", "-", "-", "-", f"exit 2: {code}"])
            continue
        s = result.report.summary
        verdict = "ok" if result.report.ok else "fails"
        cached = ", cache" if result.report.from_cache else ""
        rows.append([model, config, str(s["errors"]), str(s["warnings"]), str(s["infos"]), str(s["suppressed"]),
                     f"exit {result.exit_code}: {verdict}{cached}"])
    return rows


def verdict(check: Any) -> str:
    n = len(check.results)
    failed = sum(r.exit_code != 0 for r in check.results)
    return f"{n} audit{'s' if n != 1 else ''}, {failed} failing · exit {check.exit_code}"


def render_check_terminal(check: Any, console: Console, plain: bool | None = None) -> None:
    if plain is None:
        plain = not console.is_terminal
    table = Table(title="lora-audit check", title_justify="left", title_style="bold", box=box.SIMPLE_HEAD,
                  pad_edge=False)
    for i, name in enumerate(HEADERS):
        table.add_column(name, justify="right" if 2 <= i < len(HEADERS) - 1 else "left", no_wrap=plain,
                         overflow="fold")
    for row in summary_rows(check):
        table.add_row(*row)
    _print_whole(console, table) if plain else console.print(table)
    for result in check.results:
        title = f"── {result.pair.label}"
        console.print(Text(title, style="bold"), soft_wrap=plain)
        report = result.report
        if report is None:
            error = result.error
            console.print(Text(f"error: {error.one_line() if error else 'not audited'}", style="bold red"),
                          soft_wrap=plain)
            console.print("")
            continue
        if report.from_cache:
            console.print(Text("answered from the result cache (--no-cache to recompute)", style="dim"),
                          soft_wrap=plain)
        if plain:
            console.print(Text("\n".join(plain_findings(report, console.width)[1:])), soft_wrap=True)
        else:
            console.print(_findings(report))
        console.print("")
    style = "bold green" if check.exit_code == 0 else "bold red"
    console.print(Text(verdict(check), style=style), soft_wrap=plain)


def render_check_markdown(check: Any) -> str:
    out = ["## lora-audit check", "", f"**{verdict(check)}**", "",
           tabulate(summary_rows(check), headers=HEADERS, tablefmt="github"), ""]
    for result in check.results:
        if result.report is not None:
            body = render_markdown(result.report)
            # Each pair's report one level down, under the check's heading.
            out.append("\n".join("#" + line if line.startswith("##") else line for line in body.splitlines()))
        else:
            error = result.error
            out += [f"### {result.pair.label}", "", f"not audited: `{error.code if error else 'error'}` "
                    f"{error.one_line() if error else ''}", ""]
    return "\n".join(out).rstrip() + "\n"


__all__ = ["render_check_terminal", "render_check_markdown", "summary_rows", "verdict"]
