"""The default rendering: a rich terminal report (summary, matches, per-layer table, findings)."""

from __future__ import annotations

from rich import box
from rich.console import Console, Group
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from ..naming import leaf
from ..report import Report
from ..streams import escape_surrogates
from . import _common as c

STYLES = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def render_terminal(report: Report, console: Console, tree: bool = False, coverage: bool = False) -> None:
    # Rendered whole, then written once with lone surrogates escaped: a name from a config file such as
    # "\ud800" cannot be encoded, and must not stop the report halfway.
    with console.capture() as captured:
        _render(report, console, tree, coverage)
    console.file.write(escape_surrogates(captured.get()))
    console.file.flush()


def _render(report: Report, console: Console, tree: bool, coverage: bool) -> None:
    console.print(_header(report))
    console.print(_params(report))
    console.print(_targets(report))
    if report.modules_to_save:
        console.print(_saved(report))
    if report.adapted_modules:
        console.print(_per_layer(report))
    if report.adapter:
        console.print(_adapter(report))
    if coverage:
        console.print(_coverage(report))
    if tree:
        console.print(module_tree(report))
    console.print(_findings(report))


def _header(report: Report) -> Group:
    m = report.model
    title = Text.assemble(("lora-audit ", "bold"), (report.tool["version"], "dim"), " · ", (m.name, "bold"))
    lines = [
        title,
        Text(f"model   {c.model_line(report)}"),
        Text(f"source  {m.source}"),
        Text(f"LoRA    {c.lora_summary(report)}"),
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
    if not report.applied:
        lines.append(Text("PEFT refused this config: nothing was adapted (see findings)", style="bold red"))
    lines.append(Text(""))
    return Group(*lines)


def _table(title: str) -> Table:
    return Table(title=title, title_justify="left", title_style="bold", box=box.SIMPLE_HEAD, pad_edge=False)


def _params(report: Report) -> Table:
    p = report.params
    t = _table("Parameters")
    t.show_header = False
    t.add_column("")
    t.add_column("count", justify="right")
    t.add_column("")
    t.add_row("base", c.n(p.base), "before LoRA")
    t.add_row("total", c.n(p.total), "after LoRA (PEFT)")
    t.add_row("trainable", c.n(p.trainable), f"{p.trainable_percent:.4f}% · {c.breakdown_text(report)}")
    t.add_row("frozen", c.n(p.frozen), "")
    return t


def _targets(report: Report) -> Table:
    t = _table("Target matches")
    t.add_column("entry")
    t.add_column("matched", justify="right")
    t.add_column("modules", overflow="fold")
    t.add_column("types", overflow="fold")
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


def _saved(report: Report) -> Table:
    t = _table("modules_to_save (full trainable copies)")
    t.add_column("entry")
    t.add_column("matched", justify="right")
    t.add_column("modules", overflow="fold")
    t.add_column("params", justify="right")
    for s in report.modules_to_save:
        label = s.pattern if s.origin == "user" else f"{s.pattern} (added for task_type)"
        t.add_row(label, str(s.matched), c.summarize(s.modules), c.n(s.params), style="red" if not s.matched else None)
    return t


def _per_layer(report: Report) -> Table:
    groups = c.grouped_rows(report)
    prefix = c.common_prefix([g.label for g in groups])
    title = "Per-layer cost: r·(d+k) against d·k"
    t = _table(title + (f", modules under {prefix}" if prefix else ""))
    t.add_column("module", overflow="fold", min_width=12)
    t.add_column("n", justify="right", no_wrap=True)
    for name in ("k", "d", "r", "alpha", "r·(d+k)", "d·k", "ratio"):
        t.add_column(name, justify="right", no_wrap=True)
    for g in groups:
        row = g.row
        t.add_row(
            g.label[len(prefix):] + c.kind_note(row), str(g.count), c.in_text(row), c.n(row.out_features),
            str(row.r), c._num(row.alpha), c.n(row.lora_params), c.n(row.dense_params), c.ratio(row.ratio),
        )
    lora, dense = c.totals(report)
    t.add_row(
        Text("total", style="bold"), str(len(report.adapted_modules)),
        "", "", "", "", c.n(lora), c.n(dense), c.ratio(lora / dense) if dense else "-",
    )
    return t


def _adapter(report: Report) -> Table:
    from ._adapter import adapter_rows

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
    parts: list = [Text("Findings", style="bold"), grid if report.findings else Text("  none"), Text("")]
    parts.append(Text(c.summary_line(report), style="bold red" if not report.ok else "bold green"))
    return Group(*parts)


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

    signature_cache: dict[str, tuple] = {}

    def signature(name: str) -> tuple:
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
                sub = branch.add(Text.assemble(shown + " ", (nodes[kids[i]].type, "")))
                w = wrapped.get(kids[i])
                if w is not None:
                    sub.label.append(f"  -> {w.new_type}", style="green")
            else:
                sub = branch.add(label(kids[i], leaf(kids[i])))
            add(sub, kids[i])
            i = j + 1

    root = Tree(Text(f"{report.model.class_name}", style="bold"))
    add(root, "")
    return root
