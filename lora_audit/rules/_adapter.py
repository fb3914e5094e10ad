"""Views of ``Report.adapter`` that the adapter rules (LA040-LA048) share."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sized

from lora_audit.naming import fold, template
from lora_audit.report import AdapterComparison, KeyMismatch, Report

PREFIX = "base_model.model."


def compared(report: Report) -> AdapterComparison | None:
    """The comparison of the file's table with PEFT's, when there was one, else None."""
    return report.adapter.comparison if report.adapter is not None else None


def short(key: str) -> str:
    return key.removeprefix(PREFIX)


def key_groups(keys: list[str]) -> list[tuple[str, list[str]]]:
    """Keys grouped by template (block indices folded): ``(subject, keys)`` in first-seen order."""
    groups: dict[str, list[str]] = defaultdict(list)
    for key in keys:
        groups[template(short(key))].append(key)
    out = []
    for keys_in_group in groups.values():
        folded = fold([short(k) for k in keys_in_group])
        out.append((folded[0] if len(folded) == 1 else template(short(keys_in_group[0])), keys_in_group))
    return out


def row_groups(rows: list[KeyMismatch]) -> list[tuple[str, list[KeyMismatch]]]:
    """Mismatch rows grouped by template and kind, with the folded key as subject."""
    groups: dict[tuple[str, str], list[KeyMismatch]] = defaultdict(list)
    for row in rows:
        groups[(template(short(row.key)), row.kind)].append(row)
    out = []
    for (tmpl, _kind), members in groups.items():
        folded = fold([short(r.key) for r in members])
        out.append((folded[0] if len(folded) == 1 else tmpl, members))
    return out


def shape(values: list[int]) -> str:
    return "[" + ", ".join(str(v) for v in values) + "]"


_INDEX = re.compile(r"\.(\d+)\.")


def explained_by_layers(comparison: AdapterComparison, key: str) -> bool:
    """A key of a block one base has and the other lacks: LA044 reports the layer counts instead."""
    fits = comparison.fits
    if not fits.layers_differ or fits.num_layers is None or fits.expected_num_layers is None:
        return False
    m = _INDEX.search(key)
    return m is not None and int(m.group(1)) >= min(fits.num_layers, fits.expected_num_layers)


def explained_by_hidden(comparison: AdapterComparison, row: KeyMismatch) -> bool:
    """A size mismatch that follows from another hidden size (LA044 reports it once)."""
    return comparison.fits.hidden_differs and row.kind in ("in_features", "out_features", "shape")


def count(keys: Sized, total: int | None = None) -> str:
    n = len(keys) if total is None else total
    return f"{n:,} tensor{'' if n == 1 else 's'}"
