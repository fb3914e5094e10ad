"""docs/rules.md, generated from the rules' own docstrings (``scripts/gen_rules_doc.py``)."""

from __future__ import annotations

from lora_audit.rules import RULES

HEADER = """\
# Rules

Generated from the rules' docstrings by `python scripts/gen_rules_doc.py`; do not edit by hand
(a test fails when this file is stale). `lora-audit rules CODE` prints one rule.

Codes are stable: use them (or the names) in `--select`, `--ignore` and `[tool.lora-audit]`.

Every rule says which PEFT methods it applies to (`--method`, or a config's `peft_type`): *LoRA only*
(it reads LoRA's own fields, ranks or layers), *targeted methods* (every method with `target_modules`:
LoRA, LoHa, LoKr, IA3, OFT, VeRA...), or *all methods* (prompt learning too). A rule never runs on a
method it does not apply to.

"""


def rules_markdown() -> str:
    lines = [HEADER.rstrip("\n") + "\n", "| code | name | severity | applies to | what fires |",
             "|---|---|---|---|---|"]
    for rule in RULES:
        lines.append(f"| [{rule.code}](#{rule.code.lower()}-{rule.name}) | `{rule.name}` | {rule.severity} | "
                     f"{rule.applicability} | {rule.summary} |")
    for rule in RULES:
        sections = rule.sections()
        lines += ["", f"## {rule.code} {rule.name}", "", f"**{rule.severity}**, {rule.applicability}: {rule.summary}"]
        if sections.get("intro"):
            lines += ["", sections["intro"]]
        for title in ("What it checks", "Why it matters", "Example", "Fix"):
            if title in sections:
                lines += ["", f"### {title}", "", _example(sections[title]) if title == "Example" else sections[title]]
        if rule.options:
            lines += ["", "### Options", ""]
            lines += [f"- `{k.replace('_', '-')}` (default `{v}`)" for k, v in rule.options.items()]
    return "\n".join(lines).rstrip() + "\n"


def _example(text: str) -> str:
    """The docstrings' reST ``::`` literal blocks become fenced code."""
    if text.startswith("::"):
        body = "\n".join(line[4:] if line.startswith("    ") else line for line in text[2:].strip("\n").splitlines())
        return f"```bash\n{body}\n```"
    return text
