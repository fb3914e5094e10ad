"""``lora-audit models``: what the bundled catalogue holds, read from its files and its README (no torch).

Each entry is the hub id, the class the audit builds (the README's head or component class), the
parameters the README records as measured (a slow test builds every model and checks them), the
library that builds it, and how the README says the file was obtained (verbatim, reconstructed, published).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lora_audit.guards.files import read_regular_text
from lora_audit.model.catalogue import CATALOGUE_DIR, model_ids

#: The catalogue README is a few tens of kB; anything near this is not the file we ship.
_README_LIMIT = 4 << 20


@dataclass(frozen=True)
class Entry:
    model_id: str
    architecture: str
    params: int | None
    library: str
    source: str


def entries() -> list[Entry]:
    rows = _readme_rows()
    out = []
    for model_id in model_ids():
        directory = model_id.replace("/", "--", 1)
        row = rows.get(directory, {})
        library = "diffusers" if (CATALOGUE_DIR / directory / "model_index.json").is_file() else "transformers"
        architecture = row.get("head class") or row.get("component class") or "?"
        architecture = re.sub(r"\s*\(.*\)$", "", architecture).replace("`", "")
        params = row.get("measured params", "")
        source = _kind(row.get("source", ""))
        out.append(Entry(model_id, architecture, int(params.replace(",", "")) if params.replace(",", "").isdigit()
                         else None, library, source))
    return out


def _kind(source: str) -> str:
    """The README's source cell in a word: a verbatim copy, reconstructed from published values, or as published."""
    text = source.lower()
    for kind in ("reconstructed", "verbatim", "published"):
        if kind in text:
            return kind
    return "see the catalogue README"


def _readme_rows() -> dict[str, dict[str, str]]:
    """``directory -> {column: cell}`` for every table row of the catalogue's README."""
    rows: dict[str, dict[str, str]] = {}
    header: list[str] = []
    for line in read_regular_text(CATALOGUE_DIR / "README.md", _README_LIMIT).splitlines():
        if not line.startswith("|"):
            header = [] if not line.strip() else header
            continue
        cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
        if cells and cells[0] == "directory":
            header = cells
        elif header and cells and cells[0].startswith("`") and len(cells) >= len(header):
            rows[cells[0].strip("`")] = dict(zip(header, cells, strict=False))
    return rows
