"""Regenerate docs/errors.md from the registry of error codes: python scripts/gen_errors_doc.py"""

from pathlib import Path

from lora_audit.errors.docs import errors_markdown

target = Path(__file__).resolve().parent.parent / "docs" / "errors.md"
target.write_text(errors_markdown(), encoding="utf-8")
print(f"wrote {target}")
