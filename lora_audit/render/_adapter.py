"""The adapter section's rows, shared by the terminal and markdown renderers (pure functions of the report)."""

from __future__ import annotations

from lora_audit.render._common import n
from lora_audit.report import Report


def size_text(count: int | None) -> str:
    if count is None:
        return "-"
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("kB", 1 << 10)):
        if count >= scale:
            return f"{count / scale:.1f} {unit}"
    return f"{count} B"


def adapter_rows(report: Report) -> list[tuple[str, str]]:
    """``(label, text)`` rows describing ``report.adapter``; empty when no adapter was audited."""
    a = report.adapter
    if a is None:
        return []
    rows = [("file", f"{a.file} ({a.source})")]
    if a.base_model_name_or_path:
        rows.append(("base", f"adapter_config.json says {a.base_model_name_or_path}"))
    table = a.table
    if table is None:
        rows.append(("format", "pickle: not inspected (never unpickled)"))
        return rows
    dtypes = ", ".join(f"{d} {n(p)}" for d, p in table.dtypes.items())
    conv = a.conversion
    if conv is not None:
        kind, verb = ("kohya-ss", "converted") if conv.from_format == "kohya" else ("diffusers pipeline", "read")
        config = ", LoraConfig from its metadata" if conv.config_from == "metadata" else ""
        rows.append(("format", f"{kind} safetensors, {n(conv.file_tensors)} tensors, {verb} by diffusers "
                     f"{conv.diffusers_version} ({conv.function}) as {n(table.tensors)} {conv.component} "
                     f"tensors, {n(table.params)} parameters ({dtypes}){config}"))
    else:
        rows.append(("format", f"PEFT safetensors, {n(table.tensors)} tensors, {n(table.params)} parameters "
                     f"({dtypes})"))
    size = f"{size_text(table.file_bytes)} on disk" if table.file_bytes is not None else "header only (hub)"
    if table.truncated:
        size += f", TRUNCATED: the header lists {size_text(table.data_bytes)} of data"
    rows.append(("size", f"{size}; PEFT trains {n(report.params.trainable)} parameters with this config"))
    c = a.comparison
    if c is not None:
        keys = f"{n(c.matched)} of {n(c.expected_tensors)} expected keys match"
        keys += f" · {n(c.missing_count)} missing · {n(c.unexpected_count)} unexpected"
        keys += f" · {n(c.mismatched_count)} with another shape"
        if c.base_weights:
            keys += f" · {n(len(c.base_weights))} base weights saved with it"
        rows.append(("keys", keys))
    elif a.note:
        rows.append(("keys", a.note))
    return rows
