"""The ``lora-audit`` command group and its entry point.

Exit codes: 0 no finding at or above --fail-on; 1 one is; 2 bad usage or a model/config that
cannot be loaded (one line on stderr, and an error object on stdout with --format json);
130 interrupted. torch, transformers and peft are imported only once an audit starts.
"""

from __future__ import annotations

import contextlib
import gc
import os
import sys
from typing import Any

import click

from lora_audit import capture
from lora_audit._version import __version__
from lora_audit.cli import common, interrupts, streams
from lora_audit.cli.audit import adapter_command, audit_command
from lora_audit.cli.check import check_command
from lora_audit.cli.diff import diff_command
from lora_audit.cli.models import models_command
from lora_audit.cli.output import resolve_format
from lora_audit.cli.rules import rules_command
from lora_audit.errors import AuditError, internal_error
from lora_audit.guards import budget
from lora_audit.integrations.huggingface_hub import force_offline


class _AuditGroup(click.Group):
    """``lora-audit MODEL ...`` runs the audit; ``lora-audit check`` and ``lora-audit rules`` are the other commands."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h", "--version"):
            args = ["audit", *args]
        return super().parse_args(ctx, args)

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        audit_cmd = self.commands["audit"]
        # The group's help option names (-h, --help): click keeps a command's help option once made, so every
        # context that formats it must name the same ones, or the text depends on what ran before.
        with click.Context(audit_cmd, info_name=ctx.info_name, parent=None,
                           help_option_names=ctx.help_option_names) as sub:
            audit_cmd.format_help(sub, formatter)
        rows = [(name, COMMANDS.get(name) or command.get_short_help_str(limit=60))
                for name, command in self.commands.items() if name != "audit"]
        with formatter.section("Commands (lora-audit COMMAND --help for each)"):
            formatter.write_dl(rows)


#: One line per command for the group's --help (their own --help says the rest).
COMMANDS = {
    "adapter": "audit a saved adapter against the base it names (header only)",
    "diff": "compare two adapters, or two LoRA configs",
    "rules": "list every rule, or explain one (lora-audit rules LA003)",
    "check": "audit every (model, config) pair the project declares, in one process",
    "models": "list the bundled models (what audits offline): id, class, parameters, library",
}


@click.group(cls=_AuditGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="lora-audit", message="%(prog)s %(version)s")
def cli() -> None:
    """See what a LoRA config does to a Hugging Face model, before you train."""


for _command in (audit_command, adapter_command, diff_command, rules_command, check_command, models_command):
    cli.add_command(_command)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: one line for usage errors, 130 on Ctrl-C, never a traceback.

    Exit codes stay the audit's verdict whatever happens to stdout or stderr, and an unexpected
    error (a bug) is exit 2 with an ``internal-error`` line, never 1, which CI reads as "findings".
    """
    console = argv is None
    args = sys.argv[1:] if argv is None else list(argv)
    streams.reset()
    common.ARGS[:] = args
    if console:
        streams.ensure_standard_streams()
        # A short-lived process that builds tens of thousands of module objects: the cyclic garbage
        # collector would scan them again and again for nothing (about 0.5 s on a 400B model).
        # Only the console script does this; the Python API leaves the interpreter's settings alone.
        gc.disable()
        interrupts.exit_at_once_on_interrupt()
        capture.quiet_import_noise()
    fmt, json_path = resolve_format(_sniff_option(args, "--format")), _sniff_option(args, "--json")
    if console:
        budget.set_hard_exit(lambda error: _hard_exit(error, fmt, json_path))
    try:
        # --offline must reach huggingface_hub before anything imports it (transformers reads it once).
        if "--offline" in (args[: args.index("--")] if "--" in args else args):
            force_offline()
        # Not cli.main(): on Ctrl-C it prints a blank line before our message, and it would turn the
        # interrupt into click.Abort, hiding an interrupt that arrived wrapped in another exception.
        with cli.make_context("lora-audit", args) as ctx:
            cli.invoke(ctx)
    except click.exceptions.Exit as exc:
        _exit(exc.exit_code)
    except click.ClickException as exc:
        usage = AuditError("usage", _click_message(exc), "see lora-audit --help")
        common.fail(usage, fmt, json_path)
    except AuditError as exc:
        # Raised while click parses the flags (a flag callback), before _run_audit could report it.
        if interrupts.interrupted(exc):
            interrupts.exit_interrupted(console)
        common.fail(exc, fmt, json_path)
    except click.exceptions.Abort:
        interrupts.exit_interrupted(console)
    except SystemExit as exc:
        _exit(exc.code)
    except BaseException as exc:
        if interrupts.interrupted(exc):
            interrupts.exit_interrupted(console)
        _internal_error(exc, args, fmt, json_path)
    finally:
        if console:
            # Nothing is left worth interrupting: a Ctrl-C during interpreter teardown would print a traceback.
            interrupts.ignore_interrupts()
        streams.flush_quietly()


def _hard_exit(error: AuditError, fmt: str, json_path: str | None) -> None:
    """The budget ran out inside code that cannot be interrupted: report it from the watcher thread, and leave."""
    with contextlib.suppress(BaseException):
        common.fail(error, fmt, json_path)
    streams.flush_quietly()
    os._exit(common.EXIT_USAGE)


def _exit(code: Any) -> None:
    streams.flush_quietly()
    sys.exit(code)


def _internal_error(exc: BaseException, args: list[str], fmt: str, json_path: str | None) -> None:
    """A bug, not bad input: exit 2 (as ruff does), one line asking for a report, the traceback with --debug."""
    error = internal_error(exc)
    error.__cause__ = exc
    common.fail(error, fmt, json_path)


def _click_message(exc: click.ClickException) -> str:
    return " ".join(exc.format_message().split())


def _sniff_option(args: list[str], flag: str) -> str | None:
    """The value of ``flag`` in raw arguments click could not parse (to report the error in the asked-for way)."""
    for i, arg in enumerate(args):
        if arg == "--":
            break
        if arg == flag and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith(flag + "="):
            return arg.split("=", 1)[1]
    return None


