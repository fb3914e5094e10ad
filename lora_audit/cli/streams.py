"""stdout and stderr that can fail without changing the exit code.

The exit code is the audit's verdict (0, 1, 2); CI reads 1 as "findings". A reader that goes away
(``| head``, ``| true``), a closed stream (``2>&-``, ``>&-``) or a full disk (``>/dev/full``) must
not turn that verdict into a traceback or into Python's own exit code 1/120. So every write goes
through :func:`write_out` / :func:`write_err`: a stream that fails once is pointed at /dev/null and
the run carries on to the exit code it had decided.

Text is also made encodable on the way out: a lone surrogate (from a config file's ``"\\ud800"``,
or an undecodable byte in an argument) is written as its ``\\udXXX`` escape rather than crashing
the encoder halfway through a report.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import sys
from typing import Any, TextIO

from lora_audit.render.escape import escape_surrogates

#: Set when stdout failed for a reason the user should hear about (a full disk, not a closed pipe).
_stdout_problem: list[str] = []


def reset() -> None:
    """Forget an earlier run's stdout problem (the CLI runs many times in one test process)."""
    _stdout_problem.clear()


def ensure_standard_streams() -> None:
    """Give file descriptors 0-2 something to point at, and Python stream objects for them.

    A stream closed by the shell (``2>&-``) leaves its descriptor free: the next file opened would
    get it, and writing "stderr" would then write into, say, the --json report. Python also sets
    ``sys.stderr`` to None then, which click and print do not expect.
    """
    for fd, name, mode in ((0, "stdin", os.O_RDONLY), (1, "stdout", os.O_WRONLY), (2, "stderr", os.O_WRONLY)):
        try:
            os.fstat(fd)
        except OSError:
            with contextlib.suppress(OSError):
                null = os.open(os.devnull, mode)
                if null != fd:
                    os.dup2(null, fd)
                    os.close(null)
        if getattr(sys, name) is None:
            with contextlib.suppress(OSError, ValueError):
                setattr(sys, name, open(fd, "r" if fd == 0 else "w", encoding="utf-8", closefd=False))  # noqa: SIM115


def _silence(fd: int, name: str) -> None:
    """Point ``fd`` (and ``sys.<name>``) at /dev/null: later writes, and the flush at exit, succeed."""
    with contextlib.suppress(OSError):
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, fd)
        os.close(null)
    with contextlib.suppress(OSError, ValueError):
        setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115


def _write(name: str, text: str) -> bool:
    stream = getattr(sys, name)
    if stream is None:
        return False
    text = escape_surrogates(text)
    try:
        stream.write(text)
        stream.flush()
        return True
    except (OSError, ValueError) as exc:  # ValueError: the stream object was closed
        try:
            fd = stream.fileno()
        except (OSError, ValueError, AttributeError):
            fd = 1 if name == "stdout" else 2
        if name == "stdout" and isinstance(exc, OSError) and exc.errno not in (errno.EPIPE, errno.EBADF, None):
            _stdout_problem.append(exc.strerror or str(exc))
        if fd in (1, 2):
            _silence(fd, name)
        else:  # an in-memory stream (tests): nothing at the OS level to redirect
            with contextlib.suppress(Exception):
                setattr(sys, name, io.StringIO())
        return False


def write_out(text: str) -> None:
    """Write report text to stdout; a stdout that cannot take it is silenced, never an exception."""
    _write("stdout", text)


def write_err(text: str) -> None:
    """Write a line to stderr; a stderr that cannot take it is silenced, never an exception."""
    _write("stderr", text)


def stdout_problem() -> str | None:
    """Why stdout could not be written, when that is worth a line on stderr (a full disk)."""
    return _stdout_problem[0] if _stdout_problem else None


def flush_quietly() -> None:
    """Flush both streams now, silencing any that fails, so the interpreter's flush at exit cannot fail."""
    for name, fd in (("stdout", 1), ("stderr", 2)):
        stream = getattr(sys, name)
        if stream is None:
            continue
        try:
            stream.flush()
        except (OSError, ValueError):
            _silence(fd, name)


class SafeStdout:
    """A file-like stdout for rich: writes through :func:`write_out`, and answers rich's questions."""

    encoding = "utf-8"

    def write(self, text: str) -> int:
        write_out(text)
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        try:
            return bool(sys.stdout and sys.stdout.isatty())
        except (OSError, ValueError):
            return False

    def fileno(self) -> int:
        return sys.stdout.fileno() if sys.stdout else 1

    def __getattr__(self, name: str) -> Any:
        return getattr(sys.stdout, name)


def stdout_for_rich() -> TextIO:
    return SafeStdout()  # type: ignore[return-value]  # the methods rich calls on a file, not the whole TextIO
