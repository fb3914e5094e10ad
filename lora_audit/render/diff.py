"""``lora-audit diff``'s text: a pure function of the :class:`~lora_audit.adapter.diff.AdapterDiff`."""

from __future__ import annotations

import json

from tabulate import tabulate

from lora_audit.adapter.diff import AdapterDiff, params


def _n(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def _v(value: object) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= 80 else text[:77] + "..."


def render(d: AdapterDiff, markdown: bool = False) -> str:
    """The diff as text; markdown uses headings and tables, the terminal aligned plain lines."""
    fmt = "github" if markdown else "simple"
    h = "### " if markdown else ""
    out = [("## " if markdown else "") + f"lora-audit diff: A = {d.a.spec}, B = {d.b.spec}", ""]
    counts = [["tensors", _n(None if d.a.table is None else len(d.a.table.tensors)),
               _n(None if d.b.table is None else len(d.b.table.tensors))],
              ["parameters in the file", _n(params(d.a)), _n(params(d.b))]]
    if d.a.table is None and d.b.table is None:
        counts = []  # two configs: nothing on disk to count
    if d.a.trainable is not None:
        counts.append(["trainable (PEFT, on --base)", _n(d.a.trainable), _n(d.b.trainable)])
    if counts:
        table = tabulate(counts, headers=["", "A", "B"], tablefmt=fmt, colalign=("left", "right", "right"),
                         disable_numparse=True)
        out += [f"{h}Sizes", "", table, ""]
    out += [f"{h}Config fields that differ ({len(d.fields)}; {d.same_fields} the same)", ""]
    if d.fields:
        rows = [[name, _v(va), _v(vb)] for name, (va, vb) in d.fields.items()]
        out += [tabulate(rows, headers=["field", "A", "B"], tablefmt=fmt, disable_numparse=True), ""]
    else:
        out += ["none", ""]
    out += [f"{h}Modules each adapts", ""]
    out += [f"A: {m}" for m in d.modules_a] + [f"B: {m}" for m in d.modules_b] + [""]
    if d.a.table is not None and d.b.table is not None:
        out += [f"{h}Keys whose shapes differ ({len(d.shapes)})", ""]
        if d.shapes:
            rows = [[key, str(sa), str(sb)] for key, (sa, sb) in d.shapes.items()]
            out += [tabulate(rows, headers=["key", "A", "B"], tablefmt=fmt, disable_numparse=True), ""]
        else:
            out += ["none", ""]
        out += [f"{h}Keys in one only", ""]
        out += [f"only in A: {k}" for k in d.only_a] + [f"only in B: {k}" for k in d.only_b]
        if not d.only_a and not d.only_b:
            out.append("none")
        out.append("")
    if markdown:
        out = [line.replace("|", "\\|") if line.startswith(("A: ", "B: ", "only in")) else line for line in out]
    return "\n".join(out)


def render_diff_json(d: AdapterDiff) -> str:
    """The diff as the JSON object ``lora-audit diff --format json`` prints."""
    return json.dumps(d.to_dict(), indent=2) + "\n"
