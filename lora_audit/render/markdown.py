"""GitHub-flavoured markdown (tabulate), for PR comments and CI step summaries.

Every string from the config or the model (names, patterns, messages that quote them) lands in a
PR comment: it goes through :func:`_code` (a code span) or :func:`_text` (escaped prose), so a name
cannot break a table row (newlines, pipes), end a code span (backticks), or become a link, an
image, HTML or an ``@mention`` that notifies someone.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from tabulate import tabulate

from lora_audit.render import _common as c
from lora_audit.render._adapter import adapter_rows
from lora_audit.render._base import RenderOptions, Result
from lora_audit.render._check import HEADERS, summary_rows, verdict
from lora_audit.render._common import memory_inputs, memory_rows
from lora_audit.render.escape import escape_surrogates, sanitized, visible
from lora_audit.report import Report

if TYPE_CHECKING:
    from lora_audit.cli.batch import CheckReport

NAME = "markdown"


def render(result: Result, options: RenderOptions) -> str:
    """The markdown report, or a check run's summary table and each pair's report."""
    return render_markdown(result) if isinstance(result, Report) else render_check_markdown(result)


def render_markdown(report: Report) -> str:
    report = sanitized(report, visible)  # no control character of an input's (render/escape.py)
    m = report.model
    p = report.params
    out = [
        f"## lora-audit: {_code(m.name)}",
        "",
        f"**{_text(m.class_name)}** ({_code(m.model_type)}{c.library_text(report)}, {c.n(m.base_params)} "
        f"parameters) · source: {_text(m.source)}",
        "",
        f"{report.method.label}: {_code(c.method_summary(report))}",
        "",
        *_config_source(report),
        *(["Answered from the result cache (same inputs and versions).", ""] if report.from_cache else []),
    ]
    quant = c.quantization_lines(report)
    if quant:
        out += [f"Quantization: {_text(quant[0])}", ""] + [f"- {_text(line)}" for line in quant[1:]] + [""]
    out += [
        f"**{c.summary_line(report)}**",
        "",
    ]
    if not report.applied:
        out += ["> PEFT refused this config: nothing was adapted (see findings).", ""]
    out += [
        "### Parameters",
        "",
        _table(
            [
                ["base", c.n(p.base), f"before {report.method.label}"],
                ["total", c.n(p.total), f"after {report.method.label} (PEFT)"],
                ["trainable", c.n(p.trainable), f"{p.trainable_percent:.4f}% · {c.breakdown_text(report)}"],
                ["frozen", c.n(p.frozen), ""],
            ],
            ["", "count", ""],
            ("left", "right", "left"),
        ),
        "",
    ]
    if not report.method.prompt_learning:  # it adapts no module: the notes say so
        out += [
            "### Target matches",
            "",
            _table(
                [
                    [
                        _code(label),
                        t.matched,
                        _code(c.summarize(t.modules))
                        + (f" (resolved: {_text(', '.join(t.resolved))})" if t.resolved else ""),
                        _text(c.types_text(t.types)),
                    ]
                    for label, t in c.target_rows(report)
                ],
                ["entry", "matched", "modules", "types"],
                ("left", "right", "left", "left"),
            ),
            "",
        ]
    if report.modules_to_save:
        out += [
            "### modules_to_save",
            "",
            _table(
                [[_code(s.pattern), s.matched, _code(c.summarize(s.modules)), c.n(s.params)]
                 for s in report.modules_to_save],
                ["entry", "matched", "modules", "params"],
                ("left", "right", "left", "right"),
            ),
            "",
        ]
    if report.adapted_modules:
        rows: list[list[object]] = [
            [
                _code(g.label) + (f" x{g.count}" if g.count > 1 else "") + _text(c.kind_note(g.row)),
                _text(g.row.kind), c.in_text(g.row), c.n(g.row.out_features), c.maybe(g.row.r), c.maybe(g.row.alpha),
                c.n(g.row.lora_params), c.n(g.row.dense_params), c.ratio(g.row.ratio),
            ]
            for g in c.grouped_rows(report)
        ]
        lora, dense = c.totals(report)
        rows.append([f"**total** ({len(report.adapted_modules)} modules)", "", "", "", "", "", c.n(lora), c.n(dense),
                     c.ratio(lora / dense) if dense else "-"])
        out += [
            f"### {c.cost_title(report)}",
            "",
            _table(rows, ["module", "kind", "k", "d", "r", "alpha", c.cost_header(report), "d·k", "ratio"],
                   ("left", "left", "right", "right", "right", "right", "right", "right", "right")),
            "",
        ]
    if report.adapter:
        adapter: list[list[object]] = [[_text(label), _text(text)] for label, text in adapter_rows(report)]
        out += ["### Adapter", "", _table(adapter, ["", ""], ("left", "left")), ""]
    if report.memory is not None:
        memory: list[list[object]] = [[_text(a), _text(b), _text(note)] for a, b, note in memory_rows(report)]
        out += ["### Memory: one training step", "", _table(memory, ["", "", ""], ("left", "right", "left")), "",
                f"Inputs: {_text(memory_inputs(report))}.", ""]
    out += ["### Findings", ""]
    if report.findings:
        out.append(
            _table(
                [
                    [
                        f"{c.ICONS[f.severity]} {f.severity}" + (" (suppressed)" if f.suppressed else ""),
                        f.code, _code(f.subject) + (f" ({_text(c.location_text(f.location))})" if f.location else ""),
                        _text(f.message),
                        _text(f.hint + (f" — suppressed: {f.suppression_reason}" if f.suppressed else "")),
                    ]
                    for f in report.findings
                ],
                ["severity", "code", "subject", "message", "fix"],
                ("left",) * 5,
            )
        )
    else:
        out.append("None.")
    return escape_surrogates("\n".join(out) + "\n")


def _one_line(text: str) -> str:
    # A newline would end the table row (or the heading): show it, do not obey it.
    return " ".join(str(text).replace("\r\n", "\n").replace("\r", "\n").split("\n"))


def _config_source(report: Report) -> list[str]:
    lines = c.config_source_lines(report)
    if not lines:
        return []
    return [f"Config: {_code(lines[0])}", "", *[f"- {_code(line.strip())}" for line in lines[1:]],
            *([""] if lines[1:] else [])]


def _code(text: str) -> str:
    """``text`` as one inline code span: no markdown inside it is rendered (links, mentions, emphasis)."""
    text = _one_line(text)
    if text == "-":
        return "-"
    # A span is fenced by more backticks than it contains in a row (CommonMark), padded when it starts
    # or ends with one.
    longest = max((len(run) for run in re.findall("`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or longest else ""
    return f"{fence}{pad}{text}{pad}{fence}"


#: Characters that start markdown constructs a config string must not produce in prose.
#: (Emphasis and backticks are left alone: the hints use code spans on purpose, and neither can link.)
_MARKDOWN_SPECIAL = re.compile(r"([\\\[\]<>])")


def _text(text: str) -> str:
    """Prose with markdown neutralised: escaped punctuation, no autolinks, no @mentions."""
    text = _MARKDOWN_SPECIAL.sub(r"\\\1", _one_line(text))
    # GitHub links bare URLs and notifies @names; a zero-width joiner inside keeps the text readable.
    text = text.replace("@", "@\u2060").replace("://", ":\u2060//").replace("www.", "www\u2060.")
    return text


def _table(rows: list[list[object]], headers: list[str], align: tuple[str, ...]) -> str:
    # Surrogates escaped before tabulate measures the cells, or the columns would not line up.
    escaped = [[escape_surrogates(str(cell)).replace("|", "\\|") for cell in row] for row in rows]
    return tabulate(escaped, headers=headers, tablefmt="github", colalign=align, disable_numparse=True)


def render_check_markdown(check: CheckReport) -> str:
    """``lora-audit check``: the verdict, a per-pair summary table, then each pair's report one heading down."""
    check = sanitized(check, visible)
    rows = [[_text(str(cell)).replace("|", "\\|") for cell in row] for row in summary_rows(check)]
    out = ["## lora-audit check", "", f"**{_text(verdict(check))}**", "",
           tabulate(rows, headers=HEADERS, tablefmt="github", disable_numparse=True), ""]
    for result in check.results:
        if result.report is not None:
            body = render_markdown(result.report)
            # Each pair's report one level down, under the check's heading.
            out.append("\n".join("#" + line if line.startswith("##") else line for line in body.splitlines()))
        else:
            error = result.error
            out += [f"### {_code(result.pair.label)}", "", f"not audited: `{error.code if error else 'error'}` "
                    f"{_text(error.one_line()) if error else ''}", ""]
    return "\n".join(out).rstrip() + "\n"
