"""The command line: parse flags, run the pipeline, pick a renderer and an exit code.

Exit codes: 0 no finding at or above --fail-on; 1 one is; 2 bad usage or a model/config that
cannot be loaded (one line on stderr, and an error object on stdout with --format json);
130 interrupted. torch, transformers and peft are imported only once an audit starts.
"""

from __future__ import annotations

import contextlib
import gc
import os
import signal
import sys
import threading
from collections.abc import Iterator
from typing import Any

import click

from lora_audit._version import __version__
from lora_audit.cli import streams
from lora_audit.cli.options import csv_list, offline_option, report_options
from lora_audit.cli.output import resolve_format
from lora_audit.config.lora_config import TASK_TYPES
from lora_audit.errors import AuditError

#: The raw arguments of the run in progress: --json must not overwrite any file they name.
_ARGS: list[str] = []
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

EPILOG = """\b
Examples:
  lora-audit Qwen/Qwen2.5-0.5B --targets q_proj,v_proj
  lora-audit ./my-model --config lora.yaml --format json --json audit.json
  lora-audit meta-llama/Meta-Llama-3-8B --targets all-linear -r 16 --alpha 32 --tree
  lora-audit Qwen/Qwen2.5-0.5B --adapter ./my-adapter     check a saved adapter's keys and shapes
  lora-audit adapter org/my-lora    the same, against its base_model_name_or_path
  lora-audit diff ./adapter-v1 ./adapter-v2                compare two adapters or LoRA configs
  lora-audit check              audit every pair in [tool.lora-audit] audits, in one process
  lora-audit rules              list every rule;  lora-audit rules LA003  explains one
  lora-audit --version

\b
Exit codes: 0 ok; 1 a finding at or above --fail-on; 2 bad input; 130 interrupted.
"""


class _AuditGroup(click.Group):
    """``lora-audit MODEL ...`` runs the audit; ``lora-audit check`` and ``lora-audit rules`` are the other commands."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h", "--version"):
            args = ["audit", *args]
        return super().parse_args(ctx, args)

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        audit_cmd = self.commands["audit"]
        with click.Context(audit_cmd, info_name=ctx.info_name, parent=None) as sub:
            audit_cmd.format_help(sub, formatter)


@click.group(cls=_AuditGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="lora-audit", message="%(prog)s %(version)s")
def cli() -> None:
    """See what a LoRA config does to a Hugging Face model, before you train."""


@cli.command("audit", epilog=EPILOG, context_settings={"max_content_width": 100})
@click.argument("model", metavar="[MODEL]", required=False)
@click.option("--adapter", metavar="PATH|HUB_ID",
              help="Check a saved adapter (directory, .safetensors file or hub id) against MODEL, from its header.")
@click.option("--revision", help="Hub revision (branch, tag or commit) of MODEL.")
@offline_option
@click.option("--trust-remote-code", is_flag=True, help="Allow running the model repository's own code.")
@click.option("--task-type", type=click.Choice(TASK_TYPES, case_sensitive=False), metavar="TYPE",
              help="PEFT task type (" + ", ".join(TASK_TYPES) + "); also picks the model head.")
@click.option("--model-class", help="transformers class to build, e.g. LlamaForSequenceClassification.")
@click.option("--component", metavar="NAME",
              help="For a diffusers pipeline: the component to audit (unet, transformer, text_encoder...). "
                   "Default: the denoiser.")
@click.option("--config", "config_file", metavar="FILE",
              help="LoRA config: JSON/YAML of LoraConfig fields, adapter_config.json, or its directory.")
@click.option("--targets", metavar="A,B,...", help="target_modules: names, or all-linear. Default: PEFT's.")
@click.option("--target-regex", metavar="REGEX", help="target_modules as one regex (full match on module names).")
@click.option("--target-parameters", callback=csv_list, metavar="A,B,...",
              help="target_parameters, e.g. mlp.experts.gate_up_proj (fused MoE experts).")
@click.option("-r", "--rank", type=int, help="LoRA rank r.")
@click.option("--alpha", type=float, help="lora_alpha.")
@click.option("--dropout", type=float, help="lora_dropout.")
@click.option("--bias", type=click.Choice(("none", "all", "lora_only")), help="Which biases train.")
@click.option("--modules-to-save", callback=csv_list, metavar="A,B,...", help="Modules trained and saved in full.")
@click.option("--exclude-modules", callback=csv_list, metavar="A,B,...", help="Modules never adapted.")
@click.option("--layers", metavar="0-11,20", help="layers_to_transform: layer indices and ranges.")
@click.option("--layers-pattern", callback=csv_list, metavar="NAME", help="Layer container name, e.g. layers or h.")
@click.option("--rank-pattern", metavar="P=R,...", help="Per-module ranks, e.g. q_proj=32,v_proj=16.")
@click.option("--alpha-pattern", metavar="P=A,...", help="Per-module alphas, e.g. q_proj=64.")
@click.option("--dora", is_flag=True, default=None, help="use_dora: weight-decomposed LoRA.")
@click.option("--rslora", is_flag=True, default=None, help="use_rslora: scale by alpha/sqrt(r).")
@click.option("--fan-in-fan-out", is_flag=True, default=None, help="fan_in_fan_out (GPT-2 style Conv1D).")
@report_options("the JSON report")
@click.option("--tree", is_flag=True, help="Print the module tree with what PEFT wrapped.")
@click.option("--coverage", is_flag=True, help="Print which repeated blocks each target entry reaches.")
@click.option("--timeout", type=float, metavar="SECONDS",
              help="Budget for building and applying (default 300, or $LORA_AUDIT_TIMEOUT); past it, exit 2.")
@click.option("--debug", is_flag=True, help="On an internal error, print the traceback.")
def audit_command(**opts: Any) -> None:
    """Audit a LoRA config against MODEL, weightlessly.

    MODEL is a hub id (Qwen/Qwen2.5-0.5B), a model directory, or a config.json. Only config.json
    is read or downloaded, never weights; popular models are bundled for offline use. Without
    MODEL, the model the config file names is used: lora-audit axolotl.yml, or
    lora-audit --config ./adapter.
    """
    sys.exit(_run_audit(opts))


@cli.command("adapter", context_settings={"max_content_width": 100})
@click.argument("adapter", metavar="PATH|HUB_ID")
def adapter_command(**opts: Any) -> None:
    """Audit a saved adapter against the base its adapter_config.json names (or MODEL via --base).

    Reads adapter_config.json and the safetensors header only, never tensor data or pickles.
    """
    opts["model"] = opts.pop("base", None)
    sys.exit(_run_audit(opts))


adapter_command.params += [click.Option(["--base"], metavar="MODEL", help="The base model (default: the adapter's "
                                        "base_model_name_or_path).")]
adapter_command.params += [p for p in audit_command.params if p.name not in ("model", "adapter")]


@cli.command("diff")
@click.argument("first", metavar="A")
@click.argument("second", metavar="B")
@click.option("--base", metavar="MODEL", help="Also count PEFT's trainable parameters of each side on MODEL.")
@offline_option
@click.option("--format", "fmt", type=click.Choice(("terminal", "json", "markdown")), default="terminal",
              show_default=True)
def diff_command(first: str, second: str, base: str | None, offline: bool | None, fmt: str) -> None:
    """Compare two adapters (A B), or two LoRA configs: fields, adapted modules, sizes and shapes."""
    from lora_audit.cli.diff import run_diff

    try:
        sys.exit(run_diff(first, second, fmt, base, offline))
    except AuditError as exc:
        _fail(exc, fmt, None)


@cli.command("rules")
@click.argument("code", required=False)
def rules_command(code: str | None) -> None:
    """List every rule, or explain one (lora-audit rules LA003)."""
    from lora_audit.rules import BY_CODE, RULES, resolve_code

    if code is None:
        width = max(len(r.name) for r in RULES)
        streams.write_out("".join(f"{r.code}  {r.name:<{width}}  {r.severity:<7}  {r.summary}\n" for r in RULES))
        return
    try:
        rule = BY_CODE[resolve_code(code)]
    except AuditError as exc:
        _fail(exc, "terminal", None)
    streams.write_out(f"{rule.code} {rule.name} ({rule.severity})\n\n{rule.doc}\n")


def _add_check_command() -> None:
    from lora_audit.cli.check import check_command

    cli.add_command(check_command, "check")


_add_check_command()


# --------------------------------------------------------------------------- running
def _run_audit(opts: dict[str, Any]) -> int:
    fmt, json_path = resolve_format(opts["fmt"]), opts["json_path"]
    try:
        if json_path is not None and not json_path.strip():
            raise AuditError("usage", "--json was given an empty path", "name the file, e.g. --json audit.json")
        problem = _json_path_problem(json_path, _ARGS) if json_path else None
        if problem is not None:
            raise problem
        from lora_audit.rules.settings import load_settings

        settings = load_settings().merged(_rule_codes(opts["select"], "--select"), _ignore_keys(opts["ignore"]),
                                          opts["fail_on"])
        overrides = _overrides(opts)
        model, config_file = _model_and_config(opts["model"], opts["config_file"], opts.get("adapter"))
        baseline = _read_baseline(opts["baseline"])
        with _status(fmt) as status:
            from lora_audit.cli.batch import run_audit

            report = run_audit(
                model,
                adapter=opts.get("adapter"),
                config_file=config_file,
                overrides=overrides,
                revision=opts["revision"],
                model_class=opts["model_class"],
                trust_remote_code=opts["trust_remote_code"],
                offline=opts["offline"],
                component=opts["component"],
                settings=settings,
                status=status,
                use_cache=not opts["no_cache"],
                timeout=opts["timeout"],
            )
        _finish([report], baseline, opts["baseline"], opts["write_baseline"])
        _emit(report, fmt, json_path, opts["tree"], opts["coverage"])
    except AuditError as exc:
        if _interrupted(exc):
            # A Ctrl-C that a library turned into an error we then reported as bad input.
            raise KeyboardInterrupt from exc
        _fail(exc, fmt, json_path)
    return report.exit_code


def _read_baseline(path: str | None) -> Any:
    if path is None:
        return None
    from lora_audit.cli.baseline import read_baseline

    return read_baseline(path)


def _finish(reports: list[Any], baseline: Any, baseline_path: str | None, write_path: str | None) -> None:
    """Apply --baseline to the reports, then record --write-baseline (before printing: an error stays one line)."""
    from lora_audit.cli.baseline import apply_baseline, write_baseline

    root = os.getcwd()
    if baseline is not None:
        for report in reports:
            apply_baseline(report, baseline, baseline_path, root)
    if write_path:
        write_baseline(write_path, reports, root)


def _model_and_config(model: str | None, config_file: str | None,
                      adapter: str | None) -> tuple[str | None, str | None]:
    """``lora-audit axolotl.yml``: a lone argument that is a LoRA / framework config file is the config."""
    if model is not None and config_file is None and adapter is None and _is_config_file(model):
        return None, model
    if model is None and config_file is None and adapter is None:
        raise AuditError("model-missing", "no model given",
                         "pass MODEL (a hub id such as Qwen/Qwen2.5-0.5B, or a path), a config file, or --adapter PATH")
    return model, config_file


def _is_config_file(arg: str) -> bool:
    from pathlib import Path

    from lora_audit.config.loading import ADAPTER_CONFIG_NAME

    try:
        path = Path(arg).expanduser()
        if path.is_dir():
            return (path / ADAPTER_CONFIG_NAME).is_file() and not (path / "config.json").is_file()
        return path.is_file() and (path.suffix.lower() in (".yml", ".yaml") or path.name == ADAPTER_CONFIG_NAME)
    except (OSError, ValueError, RuntimeError):  # RuntimeError: ~ with no home directory
        return False


def _rule_codes(keys: list[str] | None, flag: str) -> list[str] | None:
    """Rule names and lower-case codes as the canonical codes; an unknown one is an error, not a silent no-op."""
    if not keys:
        return keys
    from lora_audit.rules import resolve_code

    return [resolve_code(key, flag) for key in keys]


def _ignore_keys(keys: list[str] | None) -> list[str] | None:
    """``--ignore`` entries as ``CODE`` or ``CODE:subject``, with names resolved to codes."""
    if not keys:
        return keys
    from lora_audit.rules import resolve_code

    out = []
    for key in keys:
        code, sep, subject = key.partition(":")
        out.append(resolve_code(code, "--ignore") + sep + subject)
    return out


def _overrides(opts: dict[str, Any]) -> dict[str, Any]:
    from lora_audit.config.lora_config import parse_layers, parse_list, parse_pattern

    if opts["targets"] is not None and opts["target_regex"] is not None:
        raise AuditError("usage", "--targets and --target-regex both set target_modules", "use one of them")
    targets: Any = None
    # `is not None`: an empty --targets "" is a mistake to report, not a request for PEFT's defaults.
    if opts["targets"] is not None:
        targets = parse_list(opts["targets"], "--targets")
        if len(targets) == 1 and targets[0].lower() == "all-linear":
            targets = "all-linear"
    elif opts["target_regex"] is not None:
        targets = opts["target_regex"]
    layers_pattern = opts["layers_pattern"]
    return {
        "target_modules": targets,
        "target_parameters": opts["target_parameters"],
        "r": opts["rank"],
        "lora_alpha": opts["alpha"],
        "lora_dropout": opts["dropout"],
        "bias": opts["bias"],
        "modules_to_save": opts["modules_to_save"],
        "exclude_modules": opts["exclude_modules"],
        "layers_to_transform": parse_layers(opts["layers"]) if opts["layers"] else None,
        "layers_pattern": layers_pattern[0] if layers_pattern and len(layers_pattern) == 1 else layers_pattern,
        "rank_pattern": parse_pattern(opts["rank_pattern"], "--rank-pattern", True) if opts["rank_pattern"] else None,
        "alpha_pattern": (
            parse_pattern(opts["alpha_pattern"], "--alpha-pattern", False) if opts["alpha_pattern"] else None
        ),
        "use_dora": opts["dora"],
        "use_rslora": opts["rslora"],
        "fan_in_fan_out": opts["fan_in_fan_out"],
        "task_type": opts["task_type"].upper() if opts["task_type"] else None,
    }


def _emit(report: Any, fmt: str, json_path: str | None, tree: bool = False, coverage: bool = False) -> None:
    """``report`` (or a check run) on stdout in ``fmt``, and as JSON to --json PATH."""
    from lora_audit.cli.output import emit, json_text

    if json_path:
        try:
            _write_json_file(json_path, json_text(report))
        except (OSError, ValueError) as exc:  # ValueError: a NUL byte in the path
            raise AuditError(
                "json-unwritable",
                f"cannot write the JSON report to {json_path}: {getattr(exc, 'strerror', None) or exc}",
                "pass --json a file path in an existing, writable directory",
            ) from None
    emit(report, fmt, tree, coverage)
    problem = streams.stdout_problem()
    if problem:
        streams.write_err(f"lora-audit: warning: the report could not be written to stdout: {problem}\n")


def _write_json_file(path: str, text: str) -> None:
    from lora_audit.render.json_report import write_atomic

    with _interrupt_raises(), _termination_raises():  # so an interrupted write still removes its temp file
        write_atomic(path, text)


@contextlib.contextmanager
def _termination_raises() -> Iterator[None]:
    """Inside: SIGTERM (a CI job cancelled) exits through Python, so the --json temp file is removed first."""
    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGTERM) != signal.SIG_DFL:
        yield
        return

    def terminate(signum: int, frame: Any) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _json_path_problem(json_path: str, args: list[str]) -> AuditError | None:
    """An error if ``--json PATH`` names one of the run's own inputs: the report must never overwrite them."""
    from lora_audit.model.source import user_path
    from lora_audit.rules.settings import find_pyproject

    try:
        target = os.path.realpath(json_path)
    except (OSError, ValueError):
        return None  # the write itself will say what is wrong with the path
    inputs: list[str] = []
    for i, arg in enumerate(args):
        if arg.startswith("--json=") or (i > 0 and args[i - 1] == "--json"):
            continue  # the output itself
        with contextlib.suppress(OSError, ValueError, RuntimeError):
            path = user_path(arg)
            if path.is_dir():
                inputs += [str(path / "config.json"), str(path / "adapter_config.json")]
            elif path.exists():
                inputs.append(str(path))
    with contextlib.suppress(OSError, ValueError, RuntimeError):
        pyproject = find_pyproject()
        if pyproject is not None:
            inputs.append(str(pyproject))
    for name in inputs:
        if os.path.realpath(name) == target:
            return AuditError(
                "json-is-input",
                f"--json {json_path} is one of this run's inputs ({name}): the report would overwrite it",
                "write the report to another file, e.g. --json lora-audit.json",
            )
    return None


def _fail(exc: AuditError, fmt: str | None, json_path: str | None) -> None:
    from lora_audit.render.json_report import dumps
    from lora_audit.report import error_document

    if fmt == "github":
        from lora_audit.render.github import escape_data, escape_property

        title = escape_property(f"lora-audit {exc.code}")
        streams.write_out(f"::error title={title}::{escape_data(exc.one_line())}\n")
    if fmt == "json" or json_path:
        document = dumps(error_document(exc.to_dict()))
        if fmt == "json":
            streams.write_out(document)
        if json_path and _json_path_problem(json_path, _ARGS) is None:
            # The error line below is what matters; an unwritable --json path must not hide it.
            with contextlib.suppress(OSError, ValueError):
                _write_json_file(json_path, document)
    if exc.code == "internal-error" and exc.__cause__ is not None and _debug():
        import traceback

        streams.write_err("".join(traceback.format_exception(exc.__cause__)))
    streams.write_err(f"lora-audit: error: {exc.one_line()}\n")
    sys.exit(EXIT_USAGE)


def _debug() -> bool:
    """``--debug`` on the command line (sniffed: the error may come before click parsed it) or LORA_AUDIT_DEBUG."""
    return "--debug" in _ARGS or bool(os.environ.get("LORA_AUDIT_DEBUG"))


@contextlib.contextmanager
def _status(fmt: str) -> Iterator[Any]:
    """A spinner on stderr while slow steps run, only when stderr is a terminal."""
    if not sys.stderr.isatty() or os.environ.get("LORA_AUDIT_NO_PROGRESS"):
        yield None
        return
    from rich.console import Console

    console = Console(stderr=True)
    with console.status("starting (importing torch, transformers, peft)") as spinner:
        yield lambda text: spinner.update(text)


# --------------------------------------------------------------------------- entry point
def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: one line for usage errors, 130 on Ctrl-C, never a traceback.

    Exit codes stay the audit's verdict whatever happens to stdout or stderr, and an unexpected
    error (a bug) is exit 2 with an ``internal-error`` line, never 1, which CI reads as "findings".
    """
    console = argv is None
    args = list(sys.argv[1:] if console else argv)
    streams.reset()
    _ARGS[:] = args
    if console:
        streams.ensure_standard_streams()
        # A short-lived process that builds tens of thousands of module objects: the cyclic garbage
        # collector would scan them again and again for nothing (about 0.5 s on a 400B model).
        # Only the console script does this; the Python API leaves the interpreter's settings alone.
        gc.disable()
        _exit_at_once_on_interrupt()
    fmt, json_path = resolve_format(_sniff_option(args, "--format")), _sniff_option(args, "--json")
    if console:
        from lora_audit.guards import budget

        budget.set_hard_exit(lambda error: _hard_exit(error, fmt, json_path))
    try:
        # --offline must reach huggingface_hub before anything imports it (transformers reads it once).
        if "--offline" in (args[: args.index("--")] if "--" in args else args):
            from lora_audit.integrations.huggingface_hub import force_offline

            force_offline()
        # Not cli.main(): on Ctrl-C it prints a blank line before our message, and it would turn the
        # interrupt into click.Abort, hiding an interrupt that arrived wrapped in another exception.
        with cli.make_context("lora-audit", args) as ctx:
            cli.invoke(ctx)
    except click.exceptions.Exit as exc:
        _exit(exc.exit_code)
    except click.ClickException as exc:
        usage = AuditError("usage", _click_message(exc), "see lora-audit --help")
        _fail(usage, fmt, json_path)
    except AuditError as exc:
        # Raised while click parses the flags (a flag callback), before _run_audit could report it.
        if _interrupted(exc):
            _exit_interrupted(console)
        _fail(exc, fmt, json_path)
    except click.exceptions.Abort:
        _exit_interrupted(console)
    except SystemExit as exc:
        _exit(exc.code)
    except BaseException as exc:
        if _interrupted(exc):
            _exit_interrupted(console)
        _internal_error(exc, args, fmt, json_path)
    finally:
        if console:
            # Nothing is left worth interrupting: a Ctrl-C during interpreter teardown would print a traceback.
            _ignore_interrupts()
        streams.flush_quietly()


def _hard_exit(error: AuditError, fmt: str, json_path: str | None) -> None:
    """The budget ran out inside code that cannot be interrupted: report it from the watcher thread, and leave."""
    with contextlib.suppress(BaseException):
        _fail(error, fmt, json_path)
    streams.flush_quietly()
    os._exit(EXIT_USAGE)


def _exit(code: Any) -> None:
    streams.flush_quietly()
    sys.exit(code)


def _internal_error(exc: BaseException, args: list[str], fmt: str, json_path: str | None) -> None:
    """A bug, not bad input: exit 2 (as ruff does), one line asking for a report, the traceback with --debug."""
    from lora_audit.errors import internal_error

    error = internal_error(exc)
    error.__cause__ = exc
    _fail(error, fmt, json_path)


def _interrupted(exc: BaseException) -> bool:
    """Whether ``exc`` is, or was raised while handling, a Ctrl-C.

    An interrupt that lands inside import machinery or a library's ``finally`` can surface as
    another exception (ImportError, NameError, RuntimeError...) whose context is the KeyboardInterrupt.
    """
    seen: set[int] = set()
    pending: list[BaseException | None] = [exc]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        if isinstance(current, KeyboardInterrupt):
            return True
        seen.add(id(current))
        pending += [current.__cause__, current.__context__]
    return False


def _interrupt_now(signum: int, frame: Any) -> None:
    """The console script's Ctrl-C: say so and leave, without raising.

    A KeyboardInterrupt raised while torch's C++ runs Python code (its import registers operators
    that way) crosses a C++ frame that cannot pass exceptions on, and the process aborts with a
    C++ "terminate called" message instead of exiting 130.
    """
    with contextlib.suppress(OSError):
        os.write(2, b"lora-audit: interrupted\n")  # not sys.stderr: the interrupted code may hold its lock
    os._exit(EXIT_INTERRUPTED)


def _exit_at_once_on_interrupt() -> None:
    with contextlib.suppress(ValueError, OSError):  # not the main thread, or no signal support
        if signal.getsignal(signal.SIGINT) is signal.default_int_handler:  # not when the shell ignores Ctrl-C
            signal.signal(signal.SIGINT, _interrupt_now)


@contextlib.contextmanager
def _interrupt_raises() -> Iterator[None]:
    """Inside: Ctrl-C raises KeyboardInterrupt again, so a half-written --json file's temp copy is removed."""
    if signal.getsignal(signal.SIGINT) is not _interrupt_now:
        yield
        return
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, _interrupt_now)


def _exit_interrupted(console: bool) -> None:
    if console:
        _ignore_interrupts()  # a second Ctrl-C must not interrupt the message and print a traceback
    click.echo("lora-audit: interrupted", err=True)
    if console:
        # Not sys.exit: when the interrupt landed in code a C extension ran through PyRun_*, CPython
        # remembers it as unhandled and, at exit, kills the process with SIGINT instead of exiting 130.
        with contextlib.suppress(OSError, ValueError):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(EXIT_INTERRUPTED)
    sys.exit(EXIT_INTERRUPTED)


def _ignore_interrupts() -> None:
    with contextlib.suppress(ValueError, OSError):  # not the main thread, or no signal support
        signal.signal(signal.SIGINT, signal.SIG_IGN)


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
