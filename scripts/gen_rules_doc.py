"""Regenerate docs/rules.md from the rules' docstrings: python scripts/gen_rules_doc.py"""

from pathlib import Path

from lora_audit.rules.docs import rules_markdown

target = Path(__file__).resolve().parent.parent / "docs" / "rules.md"
target.write_text(rules_markdown(), encoding="utf-8")
print(f"wrote {target}")
