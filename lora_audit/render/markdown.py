"""GitHub-flavoured markdown (tabulate), for PR comments and CI step summaries."""

from __future__ import annotations

from tabulate import tabulate

from ..report import Report
from . import _common as c


def render_markdown(report: Report) -> str:
    m = report.model
    p = report.params
    out = [
        f"## lora-audit: `{m.name}`",
        "",
        f"**{m.class_name}** (`{m.model_type}`{c.library_text(report)}, {c.n(m.base_params)} parameters) · "
        f"source: {m.source}",
        "",
        f"LoRA: `{c.lora_summary(report)}`",
        "",
        *_config_source(report),
        *(["Answered from the result cache (same inputs and versions).", ""] if report.from_cache else []),
    ]
    quant = c.quantization_lines(report)
    if quant:
        out += [f"Quantization: {quant[0]}", ""] + [f"- {line}" for line in quant[1:]] + [""]
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
                ["base", c.n(p.base), "before LoRA"],
                ["total", c.n(p.total), "after LoRA (PEFT)"],
                ["trainable", c.n(p.trainable), f"{p.trainable_percent:.4f}% · {c.breakdown_text(report)}"],
                ["frozen", c.n(p.frozen), ""],
            ],
            ["", "count", ""],
            ("left", "right", "left"),
        ),
        "",
        "### Target matches",
        "",
        _table(
            [
                [
                    f"`{label}`",
                    t.matched,
                    _code(c.summarize(t.modules)) + (f" (resolved: {', '.join(t.resolved)})" if t.resolved else ""),
                    c.types_text(t.types),
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
                [[f"`{s.pattern}`", s.matched, _code(c.summarize(s.modules)), c.n(s.params)]
                 for s in report.modules_to_save],
                ["entry", "matched", "modules", "params"],
                ("left", "right", "left", "right"),
            ),
            "",
        ]
    if report.adapted_modules:
        rows = [
            [
                f"`{g.label}`" + (f" x{g.count}" if g.count > 1 else "") + c.kind_note(g.row),
                g.row.kind, c.in_text(g.row), c.n(g.row.out_features), g.row.r, c._num(g.row.alpha),
                c.n(g.row.lora_params), c.n(g.row.dense_params), c.ratio(g.row.ratio),
            ]
            for g in c.grouped_rows(report)
        ]
        lora, dense = c.totals(report)
        rows.append([f"**total** ({len(report.adapted_modules)} modules)", "", "", "", "", "", c.n(lora), c.n(dense),
                     c.ratio(lora / dense) if dense else "-"])
        out += [
            "### Per-layer cost: r·(d+k) against d·k",
            "",
            _table(rows, ["module", "kind", "k", "d", "r", "alpha", "r·(d+k)", "d·k", "ratio"],
                   ("left", "left", "right", "right", "right", "right", "right", "right", "right")),
            "",
        ]
    if report.adapter:
        from ._adapter import adapter_rows

        out += ["### Adapter", "", _table([[label, text] for label, text in adapter_rows(report)], ["", ""],
                                          ("left", "left")), ""]
    out += ["### Findings", ""]
    if report.findings:
        out.append(
            _table(
                [
                    [
                        f"{c.ICONS[f.severity]} {f.severity}" + (" (suppressed)" if f.suppressed else ""),
                        f.code, f"`{f.subject}`" + (f" ({c.location_text(f.location)})" if f.location else ""),
                        f.message,
                        f.hint + (f" — suppressed: {f.suppression_reason}" if f.suppressed else ""),
                    ]
                    for f in report.findings
                ],
                ["severity", "code", "subject", "message", "fix"],
                ("left",) * 5,
            )
        )
    else:
        out.append("None.")
    return "\n".join(out) + "\n"


def _config_source(report: Report) -> list[str]:
    lines = c.config_source_lines(report)
    if not lines:
        return []
    return [f"Config: `{lines[0]}`", "", *[f"- `{line.strip()}`" for line in lines[1:]], *([""] if lines[1:] else [])]


def _code(text: str) -> str:
    return "-" if text == "-" else f"`{text}`"


def _table(rows: list[list[object]], headers: list[str], align: tuple[str, ...]) -> str:
    escaped = [[str(cell).replace("|", "\\|") for cell in row] for row in rows]
    return tabulate(escaped, headers=headers, tablefmt="github", colalign=align, disable_numparse=True)
