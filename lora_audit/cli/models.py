"""``lora-audit models``: list the bundled catalogue (what audits offline), without importing torch."""

from __future__ import annotations

import click

from lora_audit.cli import streams
from lora_audit.model.catalogue.listing import entries


@click.command("models")
def models_command() -> None:
    """List the bundled models: what lora-audit can audit offline (id, class, parameters, library, source)."""
    rows = [(e.model_id, e.architecture, f"{e.params:,}" if e.params is not None else "-", e.library, e.source)
            for e in entries()]
    header = ("id", "architecture", "parameters", "library", "source")
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(4)]
    lines = ["  ".join(cell.rjust(widths[i]) if i == 2 else cell.ljust(widths[i]) for i, cell in enumerate(r[:4]))
             + "  " + r[4] for r in (header, *rows)]
    streams.write_out("\n".join(line.rstrip() for line in lines) + "\n")
