"""The LoRA config file has fields this PEFT does not know.

What it checks
--------------
Fields of ``--config`` (or of a dict passed to the API) that are not ``LoraConfig`` fields in the
installed PEFT: an adapter_config.json saved by a newer or older PEFT, or a typo. They are
ignored, and listed here.

Why it matters
--------------
An ignored field is a setting that does not apply: a feature of a newer PEFT (so the run would
differ from the one that saved the adapter), or a misspelt option (``lora_dropuot``) that leaves
the default in place.

Example
-------
::

    lora-audit Qwen/Qwen2.5-0.5B --config fixtures/lora/newer-peft-adapter_config.json
    # LA025 lora_shiny_new_option: not a LoraConfig field in PEFT 0.21.2; ignored

Fix
---
Fix the spelling, or upgrade PEFT to the version that wrote the file
(``peft_version`` in the file says which).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from lora_audit.naming import did_you_mean
from lora_audit.report import Report
from lora_audit.rules._base import Problem

CODE = "LA025"
NAME = "unknown-config-field"
SEVERITY = "info"
METHODS = "all"


def check(report: Report, options: dict[str, Any]) -> Iterator[Problem]:
    known = list(report.lora_config)
    for name in report.unknown_config_fields:
        close = did_you_mean(name, known)
        yield Problem(
            subject=name,
            message=f"{name!r} is not a LoraConfig field in PEFT {report.tool.peft}: it is ignored",
            hint=f"did you mean {', '.join(close)}?" if close else "upgrade PEFT to the version that wrote the file, "
                 "or remove the field",
        )
