"""docs/rules.md, generated from the rules' own docstrings (``scripts/gen_rules_doc.py``), and the plain
text ``lora-audit rules CODE`` prints: both without the docstrings' reST markup (double backticks,
``::`` before a literal block)."""

from __future__ import annotations

import re

from lora_audit.rules import RULES
from lora_audit.rules._base import Rule

_LITERAL = re.compile(r"``([^`]+)``")

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
                     f"{rule.applicability} | {markdown(rule.summary)} |")
    for rule in RULES:
        sections = rule.sections()
        summary = markdown(rule.summary)
        lines += ["", f"## {rule.code} {rule.name}", "", f"**{rule.severity}**, {rule.applicability}: {summary}"]
        if sections.get("intro"):
            lines += ["", markdown(sections["intro"])]
        for title in ("What it checks", "Why it matters", "Example", "Fix"):
            if title in sections:
                lines += ["", f"### {title}", "", markdown(sections[title])]
        if rule.options:
            lines += ["", "### Options", ""]
            lines += [f"- `{k.replace('_', '-')}` (default `{v}`)" for k, v in rule.options.items()]
    return "\n".join(lines).rstrip() + "\n"


def markdown(text: str) -> str:
    """A docstring section as Markdown: literal blocks fenced, ``code`` in single backticks."""
    return "\n".join(_blocks(text, fence=True))


def plain(text: str) -> str:
    """A docstring section as the terminal shows it: literal blocks indented, ``code`` in single backticks."""
    return "\n".join(_blocks(text, fence=False))


def rule_text(rule: Rule) -> str:
    """What ``lora-audit rules CODE`` prints after its heading line: the docstring without reST markup."""
    sections = rule.sections()
    lines = [plain(sections["intro"])] if sections.get("intro") else []
    for title, body in sections.items():
        if title != "intro":
            lines += ["", title, "-" * len(title), plain(body)]
    return "\n".join(lines).strip("\n")


def _blocks(text: str, fence: bool) -> list[str]:
    """Lines of ``text``: a paragraph ending in ``::`` introduces the indented block after it."""
    out: list[str] = []
    lines = _LITERAL.sub(r"`\1`", text).splitlines()  # a ``span`` may run across a line break
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.rstrip().endswith("::"):
            lead = line.rstrip()[:-2].rstrip()
            if lead:
                out.append(lead + ":")
            i += 1
            block: list[str] = []
            while i < len(lines) and (not lines[i].strip() or lines[i].startswith("    ")):
                block.append(lines[i][4:] if fence else lines[i])
                i += 1
            while block and not block[0].strip():
                block.pop(0)
            while block and not block[-1].strip():
                block.pop()
            if fence:
                out += (["", "```bash"] if lead else ["```bash"]) + block + ["```"]
            else:
                out += ([""] if lead else []) + block
            if i < len(lines):
                out.append("")
            continue
        out.append(line)
        i += 1
    return out
