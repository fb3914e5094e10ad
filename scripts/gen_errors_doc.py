"""Write docs/errors.md from the table of error codes in lora_audit/errors/codes.py."""

from __future__ import annotations

from pathlib import Path

from lora_audit.errors.docs import errors_markdown

if __name__ == "__main__":
    path = Path(__file__).resolve().parent.parent / "docs" / "errors.md"
    path.write_text(errors_markdown(), encoding="utf-8")
    print(f"wrote {path}")
