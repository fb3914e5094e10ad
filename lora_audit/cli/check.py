"""``lora-audit check``: every (model, LoRA config) pair a project declares, audited in one process.

torch, transformers and peft are imported once for all the pairs (and not at all when every pair
answers from the result cache). The output is one combined report in the chosen format, with a
per-pair summary table; the exit code is the worst of the pairs (2 if one could not be audited,
else 1 if one has a finding at or above --fail-on, else 0). Which pairs: see ``batch.py``.
(``check.py`` is the pipeline's rules stage; this is the command.)
"""

from __future__ import annotations

import sys
from typing import Any

import click

from lora_audit.cli import common, interrupts
from lora_audit.cli.batch import CheckReport, declared_pairs, select_pairs
from lora_audit.cli.options import offline_option, report_options
from lora_audit.cli.output import resolve_format
from lora_audit.errors import AuditError
from lora_audit.rules.settings import load_settings

EPILOG = """\b
Pairs come from [tool.lora-audit] audits = [{model = "org/name", config = "lora.yaml"}, ...]
in pyproject.toml (or audits = [...] in lora-audit.toml). With FILES, only the declared pairs
of those files run, a saved adapter runs against the base it names, and any other file runs
against --model (or the model its framework config names): this is what the pre-commit hook
does with the files a commit changes.

\b
Examples:
  lora-audit check
  lora-audit check --format sarif > lora-audit.sarif
  lora-audit check train/lora.yaml --model Qwen/Qwen2.5-0.5B
"""


@click.command("check", epilog=EPILOG, context_settings={"max_content_width": 100})
@click.argument("files", nargs=-1, metavar="[FILES]...")
@click.option("--model", metavar="MODEL", help="Model for FILES that no declared pair names.")
@click.option("--trust-remote-code", is_flag=True,
              help="Allow running the model repositories' own code (never enabled from a settings file).")
@offline_option
@report_options("the combined JSON")
def check_command(**opts: Any) -> None:
    """Audit every (model, LoRA config) pair the project declares, in one process."""
    sys.exit(_run_check(opts))


def _run_check(opts: dict[str, Any]) -> int:
    fmt, json_path = resolve_format(opts["fmt"]), opts["json_path"]
    try:
        if json_path is not None and not json_path.strip():
            raise AuditError("usage", "--json was given an empty path", "name the file, e.g. --json check.json")

        select = common.rule_codes(opts["select"], "--select")
        ignore = common.ignore_keys(opts["ignore"])
        settings = load_settings().merged(select, ignore, opts["fail_on"])
        declared, declared_in = declared_pairs()
        pairs = select_pairs(opts["files"], opts["model"], declared)
        if not pairs:
            where = f" in {declared_in}" if declared_in else ""
            raise AuditError(
                "no-audits",
                f"nothing to check: no audits declared{where} and no config files given",
                'declare pairs in pyproject.toml: [tool.lora-audit] audits = [{ model = "org/name", '
                'config = "lora.yaml" }], or pass config files',
            )
        baseline = common.read_baseline(opts["baseline"])
        results = common.audit_pairs(pairs, settings, fmt, offline=opts["offline"], use_cache=not opts["no_cache"],
                                     trust_remote_code=opts["trust_remote_code"])
        check = CheckReport([r for r in results if r.skipped is None], str(declared_in) if declared_in else None,
                            [r for r in results if r.skipped is not None])
        common.finish(check.reports, baseline, opts["baseline"], opts["write_baseline"])
        common.emit(check, fmt, json_path)
    except AuditError as exc:
        if interrupts.interrupted(exc):
            raise KeyboardInterrupt from exc
        common.fail(exc, fmt, json_path)
    for result in check.skipped:
        click.echo(f"lora-audit: skipped {result.pair.config}: not a LoRA config ({result.skipped})", err=True)
    common.echo_pair_errors(check)
    return check.exit_code
