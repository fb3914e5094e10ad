"""``lora-audit rules [CODE]``: list every rule, or explain one."""

from __future__ import annotations

import click

from lora_audit.cli import common, streams
from lora_audit.errors import AuditError
from lora_audit.rules import BY_CODE, RULES, resolve_code
from lora_audit.rules.docs import plain, rule_text


@click.command("rules")
@click.argument("code", required=False)
def rules_command(code: str | None) -> None:
    """List every rule, or explain one (lora-audit rules LA003).

    Each rule says which PEFT methods it applies to: LoRA only, every method with target_modules
    (LoHa, LoKr, IA3, OFT...), or every PEFT method (prompt learning too).
    """
    if code is None:
        width = max(len(r.name) for r in RULES)
        methods = max(len(r.applicability) for r in RULES)
        streams.write_out("".join(f"{r.code}  {r.name:<{width}}  {r.severity:<7}  {r.applicability:<{methods}}  "
                                  f"{plain(r.summary)}\n" for r in RULES))
        return
    try:
        rule = BY_CODE[resolve_code(code)]
    except AuditError as exc:
        common.fail(exc, "terminal", None)
    streams.write_out(f"{rule.code} {rule.name} ({rule.severity}, {rule.applicability})\n\n{rule_text(rule)}\n")


