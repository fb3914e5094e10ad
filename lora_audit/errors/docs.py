"""docs/errors.md, generated from the registry of error codes (``python scripts/gen_errors_doc.py``)."""

from __future__ import annotations

import textwrap

from lora_audit.errors.codes import CODES_IN_ORDER, ErrorCode, Section

#: The examples at the top of the page: one stderr line, and the error document --format json prints.
_EXAMPLE_LINE = ("lora-audit: error: r=0 is invalid. the LoRA rank must be a whole number from 1 to 1048576 "
                 "(typical: 8, 16, 32, 64).")
_EXAMPLE_JSON = ('{"schema_version": 2, "error": {"code": "invalid-lora-value", "message": "r=0 is invalid", '
                 '"hint": "the LoRA rank must be ..."}}')

HEADER = """\
# Errors

Generated from `lora_audit/errors/codes.py` by `python scripts/gen_errors_doc.py`; do not edit by
hand (a test fails when this file is stale).

When lora-audit cannot run the audit (bad input, a model it cannot find or build, a LoRA config
that cannot train), it exits with code **2** and prints one line on stderr, the problem and then
the fix:

```text
{example_line}
```

With `--format json` it also prints an error document on stdout, and with `--json PATH` it writes
that document to `PATH` (described by [`report.schema.json`](report.schema.json)):

```json
{example_json}
```

`code` is stable: scripts may rely on it. The message and hint are for people and may be reworded.
The Python API raises `lora_audit.AuditError` with the same `code`, `message` and `hint`.

Not errors: an `adapter_config.json` from an older or newer PEFT with fields this PEFT does not
know is audited anyway (the fields are listed in the report's `unknown_config_fields`), and a LoRA
config that PEFT refuses only for some modules is reported as findings (exit 1), not as an error.
""".replace("{example_line}", _EXAMPLE_LINE).replace("{example_json}", _EXAMPLE_JSON)


def _paragraph(text: str) -> str:
    return textwrap.fill(text, width=100, break_long_words=False, break_on_hyphens=False)


def _entry(entry: ErrorCode) -> list[str]:
    return ["", f"### `{entry.code}`", _paragraph(f"**{entry.title}.** {entry.meaning}"), "",
            _paragraph(f"Fix: {entry.fix}")]


def errors_markdown() -> str:
    lines = [HEADER.rstrip("\n")]
    section: Section | None = None
    for entry in CODES_IN_ORDER:
        if entry.section is not section:
            section = entry.section
            lines += ["", f"## {section.title}"]
            if section.intro:
                lines += ["", _paragraph(section.intro)]
        lines += _entry(entry)
    return "\n".join(lines).rstrip() + "\n"
