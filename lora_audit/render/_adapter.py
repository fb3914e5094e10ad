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
    if not a:
        return []
    rows = [("file", f"{a['file']} ({a['source']})")]
    if a.get("base_model_name_or_path"):
        rows.append(("base", f"adapter_config.json says {a['base_model_name_or_path']}"))
    if not a.get("inspected"):
        rows.append(("format", "pickle: not inspected (never unpickled)"))
        return rows
    dtypes = ", ".join(f"{d} {n(p)}" for d, p in a["dtypes"].items())
    conv = a.get("conversion")
    if conv:
        kind, verb = ("kohya-ss", "converted") if conv["from"] == "kohya" else ("diffusers pipeline", "read")
        config = ", LoraConfig from its metadata" if conv.get("config_from") == "metadata" else ""
        rows.append(("format", f"{kind} safetensors, {n(conv['file_tensors'])} tensors, {verb} by diffusers "
                     f"{conv['diffusers_version']} ({conv['function']}) as {n(a['tensors'])} {conv['component']} "
                     f"tensors, {n(a['params'])} parameters ({dtypes}){config}"))
    else:
        rows.append(("format", f"PEFT safetensors, {n(a['tensors'])} tensors, {n(a['params'])} parameters ({dtypes})"))
    size = f"{size_text(a['file_bytes'])} on disk" if a.get("file_bytes") is not None else "header only (hub)"
    if a.get("truncated"):
        size += f", TRUNCATED: the header lists {size_text(a['data_bytes'])} of data"
    rows.append(("size", f"{size}; PEFT trains {n(report.params.trainable)} parameters with this config"))
    if a.get("compared"):
        keys = f"{n(a['matched'])} of {n(a['expected_tensors'])} expected keys match"
        keys += f" · {n(a['missing_count'])} missing · {n(a['unexpected_count'])} unexpected"
        keys += f" · {n(a['mismatched_count'])} with another shape"
        if a["base_weights"]:
            keys += f" · {n(len(a['base_weights']))} base weights saved with it"
        rows.append(("keys", keys))
    return rows
