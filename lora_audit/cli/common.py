"""What the commands share: --json, the report on stdout, errors as one line, the spinner, the baseline.

Public within ``lora_audit.cli`` (each command module uses them); nothing outside the package does.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import traceback
from collections.abc import Iterator
from typing import Any

import click
from rich.console import Console

from lora_audit.cli import baseline as baselines
from lora_audit.cli import interrupts, output, streams
from lora_audit.cli.batch import CheckReport, Pair, PairResult, run_pairs
from lora_audit.errors import AuditError
from lora_audit.guards.files import describe
from lora_audit.model.local import user_path
from lora_audit.render.escape import github_data, github_property, visible
from lora_audit.render.json_report import dumps, write_atomic
from lora_audit.report import error_document
from lora_audit.rules import resolve_code
from lora_audit.rules.settings import find_pyproject

#: The raw arguments of the run in progress: --json must not overwrite any file they name.
ARGS: list[str] = []
EXIT_USAGE = 2


def read_baseline(path: str | None) -> Any:
    if path is None:
        return None
    return baselines.read_baseline(path)


def finish(reports: list[Any], baseline: Any, baseline_path: str | None, write_path: str | None) -> None:
    """Apply --baseline to the reports, then record --write-baseline (before printing: an error stays one line)."""
    root = os.getcwd()
    if baseline is not None and baseline_path is not None:  # a baseline is read from its path
        for report in reports:
            baselines.apply_baseline(report, baseline, baseline_path, root)
    if write_path:
        baselines.write_baseline(write_path, reports, root)


def rule_codes(keys: list[str] | None, flag: str) -> list[str] | None:
    """Rule names and lower-case codes as the canonical codes; an unknown one is an error, not a silent no-op."""
    if not keys:
        return keys
    return [resolve_code(key, flag) for key in keys]


def ignore_keys(keys: list[str] | None) -> list[str] | None:
    """``--ignore`` entries as ``CODE`` or ``CODE:subject``, with names resolved to codes."""
    if not keys:
        return keys
    out = []
    for key in keys:
        code, sep, subject = key.partition(":")
        out.append(resolve_code(code, "--ignore") + sep + subject)
    return out


def emit(report: Any, fmt: str, json_path: str | None, tree: bool = False, coverage: bool = False) -> None:
    """``report`` (or a check run) on stdout in ``fmt``, and as JSON to --json PATH."""
    if json_path:
        try:
            write_json_file(json_path, output.json_text(report))
        except (OSError, ValueError) as exc:  # ValueError: a NUL byte in the path
            raise AuditError(
                "json-unwritable",
                f"cannot write the JSON report to {json_path}: {describe(exc) if isinstance(exc, OSError) else exc}",
                "pass --json a file path in an existing, writable directory",
            ) from None
    output.emit(report, fmt, tree, coverage)
    problem = streams.stdout_problem()
    if problem:
        streams.write_err(f"lora-audit: warning: the report could not be written to stdout: {problem}\n")


def write_json_file(path: str, text: str) -> None:
    with interrupts.interrupt_raises(), termination_raises():  # so an interrupted write still removes its temp file
        write_atomic(path, text)


@contextlib.contextmanager
def termination_raises() -> Iterator[None]:
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


def json_path_problem(json_path: str, args: list[str]) -> AuditError | None:
    """An error if ``--json PATH`` names one of the run's own inputs: the report must never overwrite them."""
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


def fail(exc: AuditError, fmt: str | None, json_path: str | None) -> None:
    if fmt == "github":
        title = github_property(f"lora-audit {exc.code}")
        streams.write_out(f"::error title={title}::{github_data(visible(exc.one_line()))}\n")
    if fmt == "json" or json_path:
        document = dumps(error_document(exc.to_dict()))
        if fmt == "json":
            streams.write_out(document)
        if json_path and json_path_problem(json_path, ARGS) is None:
            # The error line below is what matters; an unwritable --json path must not hide it.
            with contextlib.suppress(OSError, ValueError):
                write_json_file(json_path, document)
    if exc.code == "internal-error" and exc.__cause__ is not None and debug():
        streams.write_err("".join(traceback.format_exception(exc.__cause__)))
    # The message may quote an input: shown, never obeyed (no ANSI, no new line, no workflow command).
    streams.write_err(f"lora-audit: error: {visible(exc.one_line())}\n")
    sys.exit(EXIT_USAGE)


def debug() -> bool:
    """``--debug`` on the command line (sniffed: the error may come before click parsed it) or LORA_AUDIT_DEBUG."""
    return "--debug" in ARGS or bool(os.environ.get("LORA_AUDIT_DEBUG"))


@contextlib.contextmanager
def status(fmt: str) -> Iterator[Any]:
    """A spinner on stderr while slow steps run, only when stderr is a terminal."""
    if not sys.stderr.isatty() or os.environ.get("LORA_AUDIT_NO_PROGRESS"):
        yield None
        return

    console = Console(stderr=True)
    with console.status("starting (importing torch, transformers, peft)") as spinner:
        yield lambda text: spinner.update(text)




def audit_pairs(pairs: list[Pair], settings: Any, fmt: str, **options: Any) -> list[PairResult]:
    """``batch.run_pairs`` with one progress line per pair (``audited MODEL + CONFIG``) where progress is shown."""
    with status(fmt) as show:
        def progress(result: PairResult) -> None:
            if show is not None:
                show(f"audited {result.pair.label}")

        return run_pairs(pairs, settings, after=progress, **options)


def echo_pair_errors(check: CheckReport) -> None:
    """One stderr line per pair that could not be audited."""
    for result in check.results:
        if result.error is not None:
            line = result.error.one_line()
            # A script's error already starts with the place its label names (train.py: cell 24, line 2).
            where = "" if line.startswith(f"{result.pair.label}:") else f"{result.pair.label}: "
            click.echo(f"lora-audit: error: {where}{line}", err=True)
