"""docs/errors.md, generated from the table of error codes (``python scripts/gen_errors_doc.py``)."""

from __future__ import annotations

from lora_audit.errors.codes import CODES, SECTIONS

#: The page's introduction, above the sections.
INTRODUCTION = (
    '# Errors\n'
    '\n'
    'When lora-audit cannot run the audit (bad input, a model it cannot find or build, a LoRA config\n'
    'that cannot train), it exits with code **2** and prints one line on stderr, the problem and then\n'
    'the fix:\n'
    '\n'
    '```text\n'
    'lora-audit: error: r=0 is invalid. the LoRA rank must be a whole number from 1 to 1048576 (typical: 8, 16, '
    '32, 64).\n'
    '```\n'
    '\n'
    'With `--format json` it also prints an error document on stdout, and with `--json PATH` it writes\n'
    'that document to `PATH` (described by [`report.schema.json`](report.schema.json)):\n'
    '\n'
    '```json\n'
    '{"schema_version": 2, "error": {"code": "invalid-lora-value", "message": "r=0 is invalid", "hint": "the LoRA '
    'rank must be ..."}}\n'
    '```\n'
    '\n'
    '`code` is stable: scripts may rely on it. The message and hint are for people and may be reworded.\n'
    'The Python API raises `lora_audit.AuditError` with the same `code`, `message` and `hint`.\n'
    '\n'
    'Not errors: an `adapter_config.json` from an older or newer PEFT with fields this PEFT does not\n'
    "know is audited anyway (the fields are listed in the report's `unknown_config_fields`), and a LoRA\n"
    'config that PEFT refuses only for some modules is reported as findings (exit 1), not as an error.\n'
    '\n'
)


def errors_markdown() -> str:
    parts = [INTRODUCTION]
    for title, intro in SECTIONS.items():
        parts.append(f"## {title}\n{intro}")
        for entry in CODES.values():
            if entry.section == title:
                parts.append(f"### `{entry.code}`\n{entry.message}{entry.explanation}")
    return "".join(parts)
