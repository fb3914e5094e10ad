"""Ctrl-C: exit 130 with one line, never a traceback, whatever the interrupted code was doing."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Iterator
from typing import Any

import click

EXIT_INTERRUPTED = 130


def interrupted(exc: BaseException) -> bool:
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


def interrupt_now(signum: int, frame: Any) -> None:
    """The console script's Ctrl-C: say so and leave, without raising.

    A KeyboardInterrupt raised while torch's C++ runs Python code (its import registers operators
    that way) crosses a C++ frame that cannot pass exceptions on, and the process aborts with a
    C++ "terminate called" message instead of exiting 130.
    """
    with contextlib.suppress(OSError):
        os.write(2, b"lora-audit: interrupted\n")  # not sys.stderr: the interrupted code may hold its lock
    os._exit(EXIT_INTERRUPTED)


def exit_at_once_on_interrupt() -> None:
    with contextlib.suppress(ValueError, OSError):  # not the main thread, or no signal support
        if signal.getsignal(signal.SIGINT) is signal.default_int_handler:  # not when the shell ignores Ctrl-C
            signal.signal(signal.SIGINT, interrupt_now)


@contextlib.contextmanager
def interrupt_raises() -> Iterator[None]:
    """Inside: Ctrl-C raises KeyboardInterrupt again, so a half-written --json file's temp copy is removed."""
    if signal.getsignal(signal.SIGINT) is not interrupt_now:
        yield
        return
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, interrupt_now)


def exit_interrupted(console: bool) -> None:
    if console:
        ignore_interrupts()  # a second Ctrl-C must not interrupt the message and print a traceback
    click.echo("lora-audit: interrupted", err=True)
    if console:
        # Not sys.exit: when the interrupt landed in code a C extension ran through PyRun_*, CPython
        # remembers it as unhandled and, at exit, kills the process with SIGINT instead of exiting 130.
        with contextlib.suppress(OSError, ValueError):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(EXIT_INTERRUPTED)
    sys.exit(EXIT_INTERRUPTED)


def ignore_interrupts() -> None:
    with contextlib.suppress(ValueError, OSError):  # not the main thread, or no signal support
        signal.signal(signal.SIGINT, signal.SIG_IGN)


