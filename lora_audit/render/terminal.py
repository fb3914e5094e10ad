"""The default rendering: a rich terminal report (summary, matches, per-layer table, findings).

When the output is not a terminal (a CI log, a pipe, a file), nothing is ever broken inside a
word: name columns do not wrap, each table is as wide as its content needs (wider than the
console when it must), header lines are printed whole, and findings are plain text wrapped only
at spaces. A log line can then be grepped for a module name or a code.
"""

from __future__ import annotations

import io
import textwrap
from typing import TYPE_CHECKING, Any

from rich import box
from rich.console import Console, Group, RenderableType
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from lora_audit.naming import leaf
from lora_audit.render import _common as c
from lora_audit.render._adapter import adapter_rows
from lora_audit.render._base import RenderOptions, Result, TerminalSpec
from lora_audit.render._check import HEADERS, summary_rows, verdict
from lora_audit.render.escape import escape_surrogates, sanitized, visible
from lora_audit.report import Report

if TYPE_CHECKING:
    from lora_audit.cli.batch import CheckReport

NAME = "terminal"
STYLES = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def render(result: Result, options: RenderOptions) -> str:
    """The terminal report (or a check run's summary and findings), drawn by rich for ``options.terminal``."""
    buffer = io.StringIO()
    console = console_for(options.terminal, buffer)
    if isinstance(result, Report):
        render_terminal(result, console, tree=options.tree, coverage=options.coverage)
    else:
        render_check_terminal(result, console)
    return buffer.getvalue()


def console_for(spec: TerminalSpec, file: io.StringIO) -> Console:
    """A rich console that draws into ``file`` exactly as it would on that terminal."""
    return Console(file=file, width=spec.width, color_system=spec.color_system, force_terminal=spec.is_terminal,
                   legacy_windows=spec.legacy_windows, no_color=spec.no_color, highlight=False, soft_wrap=False)


def render_terminal(
    report: Report, console: Console, tree: bool = False, coverage: bool = False, plain: bool | None = None
) -> None:
    """Print the report; ``plain`` (default: the console is not a terminal) never breaks a word."""
    if plain is None:
        plain = not console.is_terminal
    report = sanitized(report, visible)  # every string from an input shown, never obeyed (render/escape.py)
    # Rendered whole, then written once with lone surrogates escaped: a name from a config file such as
    # "\ud800" cannot be encoded, and must not stop the report halfway.
    with console.capture() as captured:
        _render(report, console, tree, coverage, plain)
    console.file.write(escape_surrogates(captured.get()))
    console.file.flush()


def _render(report: Report, console: Console, tree: bool, coverage: bool, plain: bool) -> None:
    def show(item: RenderableType) -> None:
        if plain:
            _print_whole(console, item)
        elif isinstance(item, _Records) and not _fits(console, item):
            _print(console, _stacked(item, console.width))  # wrapped by rich at spaces, as a title is
            _print(console, Text(""))
        else:
            _print(console, item)

    if plain:
        _print(console, _header(report), soft_wrap=True)
    else:
        _print(console, _header(report))
    show(_params(report))
    if not report.method.prompt_learning:  # it adapts no module: the header's note says so
        show(_targets(report, plain))
    if report.modules_to_save:
        show(_saved(report, plain))
    if report.adapted_modules:
        show(_per_layer(report, plain))
    if report.adapter:
        show(_adapter(report))
    if report.memory is not None:
        show(_memory(report, plain))
    if coverage:
        show(_coverage(report))
    if tree:
        show(module_tree(report))
    if plain:
        _print(console, Text("\n".join(plain_findings(report, console.width))), soft_wrap=True)
    else:
        _print(console, _findings(report))


def _print(console: Console, *objects: RenderableType, **kwargs: Any) -> None:
    """``console.print`` that never reads rich markup in the text: ``[/x]`` in a name is a name."""
    console.print(*objects, markup=False, **kwargs)


def _print_whole(console: Console, item: RenderableType) -> None:
    """Print ``item`` at the console width, or as wide as its content when wider (nothing is ever folded)."""
    if isinstance(item, Table) and isinstance(item.title, str):
        item.min_width = max(item.min_width or 0, len(item.title))  # a title is not wrapped either
    needed = Measurement.get(console, console.options.update(markup=False).update_width(1_000_000), item).maximum
    width = console.width
    if needed <= width:
        _print(console, item)
        return
    console.width = needed
    try:
        _print(console, item)
    finally:
        console.width = width


def _header(report: Report) -> Group:
    m = report.model
    title = Text.assemble(("lora-audit ", "bold"), (report.tool.version, "dim"), " · ", (m.name, "bold"))
    lines: list[RenderableType] = [
        title,
        Text(f"model   {c.model_line(report)}"),
        Text(f"source  {m.source}"),
        Text(f"{report.method.label:<7} {c.method_summary(report)}"),
    ]
    config_lines = c.config_source_lines(report)
    if config_lines:
        grid = Table.grid()
        grid.add_column(width=8, no_wrap=True)
        grid.add_column(overflow="fold")
        for i, line in enumerate(config_lines):
            grid.add_row("config" if i == 0 else "", line.strip() if i == 0 else line[2:])
        lines.append(grid)
    lines += [Text(f"{'quant' if i == 0 else '':<8}{line}") for i, line in enumerate(c.quantization_lines(report))]
    lines += [Text(f"note    {note}", style="dim") for note in report.notes]
    if report.from_cache:
        lines.append(Text("cache   answered from the result cache: same inputs and versions (--no-cache to recompute)",
                          style="dim"))
    if not report.applied:
        lines.append(Text("PEFT refused this config: nothing was adapted (see findings)", style="bold red"))
    lines.append(Text(""))
    return Group(*lines)


class _Records(Table):
    """A rich ``Table`` that keeps each row's text too: on a terminal too narrow for its columns, it is shown
    as one record per row (:func:`_stacked`) rather than with columns squeezed away or names folded."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.records: list[tuple[list[str], str | None]] = []

    def add_row(self, *renderables: RenderableType | None, style: Any = None, end_section: bool = False) -> None:
        self.records.append(([_plain(cell) for cell in renderables], style if isinstance(style, str) else None))
        super().add_row(*renderables, style=style, end_section=end_section)


def _plain(cell: RenderableType | None) -> str:
    if cell is None:
        return ""
    return cell.plain if isinstance(cell, Text) else str(cell)


def _table(title: str) -> _Records:
    return _Records(title=title, title_justify="left", title_style="bold", box=box.SIMPLE_HEAD, pad_edge=False)


def _fits(console: Console, table: Table) -> bool:
    """Every column at its narrowest, no word broken (a module name is one word), fits the console."""
    # Measured unclamped: rich clamps a measurement to the width it is given.
    unclamped = console.options.update(markup=False).update_width(1_000_000)
    return Measurement.get(console, unclamped, table).minimum <= console.width


def _stacked(table: _Records, width: int) -> Text:
    """The table as records: each row's first cell on its own line, then ``header value`` items, packed at
    spaces between items only. Nothing is dropped and no name or number is broken."""
    headers = [column.header if isinstance(column.header, str) else "" for column in table.columns]
    out = Text()
    if isinstance(table.title, str):
        out.append(table.title + "\n", style="bold")
    for cells, style in table.records:
        first, rest = (cells[0], cells[1:]) if cells else ("", [])
        out.append("  " + first + "\n", style=style)
        pairs = zip(headers[1:], rest, strict=False)  # rich pads a short row with empty cells
        items = [f"{header} {value}" if header else value for header, value in pairs if value]
        for line in _pack(items, width - 4):
            out.append("    " + line + "\n", style=style)
    if isinstance(table.caption, str):
        out.append(table.caption)
    out.rstrip()
    return out


def _pack(items: list[str], width: int) -> list[str]:
    lines: list[str] = []
    for item in items:
        if lines and len(lines[-1]) + 3 + len(item) <= width:
            lines[-1] += " · " + item
        else:
            lines.append(item)
    return lines


def _params(report: Report) -> Table:
    p = report.params
    t = _table("Parameters")
    t.show_header = False
    t.add_column("")
    t.add_column("count", justify="right")
    t.add_column("")
    t.add_row("base", c.n(p.base), f"before {report.method.label}")
    t.add_row("total", c.n(p.total), f"after {report.method.label} (PEFT)")
    t.add_row("trainable", c.n(p.trainable), f"{p.trainable_percent:.4f}% · {c.breakdown_text(report)}")
    t.add_row("frozen", c.n(p.frozen), "")
    return t


def _memory(report: Report, plain: bool) -> Table:
    t = _table("Memory: one training step")
    t.show_header = False
    t.add_column("")
    t.add_column("", justify="right")
    t.add_column("", overflow="fold", no_wrap=plain)
    for label, value, note in c.memory_rows(report):
        style = "red" if value == "does not fit" else None
        t.add_row(label, value, note, style=style)
    memory = report.memory
    assert memory is not None
    t.caption = f"inputs: {c.memory_inputs(report)}. Not modelled: {'; '.join(memory.not_modelled)}."
    t.caption_justify = "left"
    return t


def _targets(report: Report, plain: bool = False) -> Table:
    t = _table("Target matches")
    t.add_column("entry", no_wrap=plain)
    t.add_column("matched", justify="right")
    t.add_column("modules", overflow="fold", no_wrap=plain)
    t.add_column("types", overflow="fold", no_wrap=plain)
    for label, m in c.target_rows(report):
        modules = c.summarize(m.modules)
        modules = "the entry's own path" if m.kind == "name" and "." in label and modules == label else modules
        if m.converted_to:
            modules += f" (PEFT made these target_parameters: {', '.join(m.converted_to)})"
        if m.dropped:
            modules += " (refused by PEFT: audited without it)"
        style = "red" if m.matched == 0 or m.dropped else None
        t.add_row(label, str(m.matched), modules, c.types_text(m.types), style=style)
    return t


def _saved(report: Report, plain: bool = False) -> Table:
    t = _table("modules_to_save (full trainable copies)")
    t.add_column("entry", no_wrap=plain)
    t.add_column("matched", justify="right")
    t.add_column("modules", overflow="fold", no_wrap=plain)
    t.add_column("params", justify="right")
    for s in report.modules_to_save:
        label = s.pattern if s.origin == "user" else f"{s.pattern} (added for task_type)"
        t.add_row(label, str(s.matched), c.summarize(s.modules), c.n(s.params), style="red" if not s.matched else None)
    return t


def _per_layer(report: Report, plain: bool = False) -> Table:
    groups = c.grouped_rows(report)
    prefix = c.common_prefix([g.label for g in groups])
    title = c.cost_title(report)
    t = _table(title + (f", modules under {prefix}" if prefix else ""))
    t.add_column("module", overflow="fold", min_width=12, no_wrap=plain)
    t.add_column("n", justify="right", no_wrap=True)
    for name in ("k", "d", "r", "alpha", c.cost_header(report), "d·k", "ratio"):
        t.add_column(name, justify="right", no_wrap=True)
    for g in groups:
        row = g.row
        t.add_row(
            g.label[len(prefix):] + c.kind_note(row), str(g.count), c.in_text(row), c.n(row.out_features),
            c.maybe(row.r), c.maybe(row.alpha), c.n(row.lora_params), c.n(row.dense_params), c.ratio(row.ratio),
        )
    lora, dense = c.totals(report)
    t.add_row(
        Text("total", style="bold"), str(len(report.adapted_modules)),
        "", "", "", "", c.n(lora), c.n(dense), c.ratio(lora / dense) if dense else "-",
    )
    return t


def _adapter(report: Report) -> Table:
    t = _table("Adapter")
    t.show_header = False
    t.add_column("")
    t.add_column("", overflow="fold")
    for label, text in adapter_rows(report):
        t.add_row(label, text)
    return t


def _coverage(report: Report) -> Table:
    t = _table("Coverage: adapted modules per repeated block")
    t.add_column("blocks", no_wrap=True)
    t.add_column("type")
    t.add_column("adapted, per target entry", overflow="fold")
    t.add_column("linear", justify="right")
    for label, block, _count in c.coverage_groups(report):
        adapted = " · ".join(f"{e} {k}" for e, k in block.adapted.items() if k) or "none"
        t.add_row(label, block.block_type, adapted, str(block.linear_modules), style=None if block.adapted else "red")
    if not report.coverage:
        t.add_row("(no repeated blocks)", "", "", "")
    return t


def _findings(report: Report) -> Group:
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True)
    grid.add_column(no_wrap=True)
    grid.add_column(overflow="fold")
    for f in report.findings:
        style = "dim" if f.suppressed else STYLES[f.severity]
        body = Text.assemble((f"{f.subject}: ", "bold" if not f.suppressed else "dim"), f.message)
        if f.location:
            body = Text.assemble((f"{c.location_text(f.location)}: ", "dim"), body)
        body.append(f"\nfix: {f.hint}", style="dim")
        if f.suppressed:
            body.append(f"\nsuppressed: {f.suppression_reason}", style="dim")
        grid.add_row(Text(c.ICONS[f.severity], style=style), Text(f"{f.code} {f.severity}", style=style), body)
    parts: list[RenderableType] = [Text("Findings", style="bold"), grid if report.findings else Text("  none"),
                                   Text("")]
    parts.append(Text(c.summary_line(report), style="bold red" if not report.ok else "bold green"))
    return Group(*parts)


def plain_findings(report: Report, width: int = 80) -> list[str]:
    """The findings as plain lines, wrapped only at spaces (a name longer than the line stays whole)."""
    lines = ["Findings"]
    for f in report.findings:
        head = f"{c.ICONS[f.severity]} {f.code} {f.severity:<7} "
        indent = " " * len(head)
        where = f"{c.location_text(f.location)}: " if f.location else ""
        parts = [(head, f"{where}{f.subject}: {f.message}"), (indent, f"fix: {f.hint}")]
        if f.suppressed:
            parts.append((indent, f"suppressed: {f.suppression_reason}"))
        for first, text in parts:
            lines += textwrap.wrap(text, width=max(width, len(head) + 20), initial_indent=first,
                                   subsequent_indent=indent, break_long_words=False, break_on_hyphens=False)
    if not report.findings:
        lines.append("  none")
    lines += ["", c.summary_line(report)]
    return lines


# --------------------------------------------------------------------------- --tree
def module_tree(report: Report) -> Tree:
    """The module tree after injection, repeated blocks folded (``layers.(0-23): 24 x ...``)."""
    wrapped = {w.name: w for w in report.wrapped_modules}
    nodes = {node.name: node for node in report.modules}
    children: dict[str, list[str]] = {}
    for node in report.modules:
        if node.name:
            parent = node.name.rpartition(".")[0]
            children.setdefault(parent, []).append(node.name)

    signature_cache: dict[str, tuple[object, ...]] = {}

    def signature(name: str) -> tuple[object, ...]:
        if name not in signature_cache:
            node = nodes[name]
            w = wrapped.get(name)
            own = (node.type, tuple(node.shape or ()), w.new_type if w else None, w.added_params if w else 0)
            kids = tuple((leaf(k), signature(k)) for k in children.get(name, []))
            signature_cache[name] = (own, kids)
        return signature_cache[name]

    def label(name: str, shown: str) -> Text:
        node = nodes[name]
        text = Text.assemble((shown, "bold" if name in wrapped else ""), f": {node.type}")
        if node.shape:
            text.append(" " + c.shape_text(node.type, node.shape), style="dim")
        w = wrapped.get(name)
        if w is not None:
            text.append(f"  -> {w.new_type} (+{c.n(w.added_params)})", style="green")
        return text

    def add(branch: Tree, name: str) -> None:
        kids = children.get(name, [])
        i = 0
        while i < len(kids):
            j = i
            numeric = leaf(kids[i]).isdigit()
            while (numeric and j + 1 < len(kids) and leaf(kids[j + 1]).isdigit()
                   and signature(kids[j + 1]) == signature(kids[i])):
                j += 1
            if j > i:
                shown = f"({leaf(kids[i])}-{leaf(kids[j])}): {j - i + 1} x"
                folded = Text.assemble(shown + " ", (nodes[kids[i]].type, ""))
                w = wrapped.get(kids[i])
                if w is not None:
                    folded.append(f"  -> {w.new_type}", style="green")
                sub = branch.add(folded)
            else:
                sub = branch.add(label(kids[i], leaf(kids[i])))
            add(sub, kids[i])
            i = j + 1

    root = Tree(Text(f"{report.model.class_name}", style="bold"))
    add(root, "")
    return root


# --------------------------------------------------------------------------- lora-audit check
def render_check_terminal(check: CheckReport, console: Console, plain: bool | None = None) -> None:
    """``lora-audit check``: a per-pair summary table, then each pair's findings, then the verdict."""
    if plain is None:
        plain = not console.is_terminal
    # Rendered whole, then written once with lone surrogates escaped (as render_terminal does).
    check = sanitized(check, visible)
    with console.capture() as captured:
        _render_check(check, console, plain)
    console.file.write(escape_surrogates(captured.get()))
    console.file.flush()


def _render_check(check: CheckReport, console: Console, plain: bool) -> None:
    table = Table(title="lora-audit check", title_justify="left", title_style="bold", box=box.SIMPLE_HEAD,
                  pad_edge=False)
    for i, name in enumerate(HEADERS):
        table.add_column(name, justify="right" if 2 <= i < len(HEADERS) - 1 else "left", no_wrap=plain,
                         overflow="fold")
    for row in summary_rows(check):
        table.add_row(*row)
    if plain:
        _print_whole(console, table)
    else:
        _print(console, table)
    for result in check.results:
        title = f"── {result.pair.label}"
        _print(console, Text(title, style="bold"), soft_wrap=plain)
        report = result.report
        if report is None:
            error = result.error
            _print(console, Text(f"error: {error.one_line() if error else 'not audited'}", style="bold red"),
                          soft_wrap=plain)
            _print(console, "")
            continue
        if report.from_cache:
            _print(console, Text("answered from the result cache (--no-cache to recompute)", style="dim"),
                          soft_wrap=plain)
        if plain:
            _print(console, Text("\n".join(plain_findings(report, console.width)[1:])), soft_wrap=True)
        else:
            _print(console, _findings(report))
        _print(console, "")
    style = "bold green" if check.exit_code == 0 else "bold red"
    _print(console, Text(verdict(check), style=style), soft_wrap=plain)
