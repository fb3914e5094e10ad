"""One guarded open for every file lora-audit reads or writes: nothing blocks, nothing grows without bound.

A path given to lora-audit may name a FIFO with no writer (or no reader), a device such as
``/dev/zero``, a socket, or a symlink loop. Opening such a file the plain way can wait forever or read
forever. Here every file is opened with ``O_NONBLOCK`` and checked with ``fstat`` on the open
descriptor (no window between the check and the read) before a byte is read:

- :func:`read_regular`: a regular file only, at most ``limit`` bytes (a bigger one is
  :class:`TooLarge`), or :class:`NotRegular` naming what it is; ``follow=False`` also refuses a
  symlink (``O_NOFOLLOW``: the result cache reads its entries so).
- :func:`open_regular_binary`: the same check, then a binary file object, for readers that seek
  (safetensors headers).
- :func:`open_for_writing`: a report or baseline target that is not a regular file (``/dev/stdout``,
  a pipe) is written through, but a FIFO that nobody reads is refused at once (``ENXIO``) instead of
  waiting.

Each raises :class:`OSError` (its subclasses here carry a sentence that names the problem), which each
caller turns into its own error code.
"""

from __future__ import annotations

import errno
import os
import stat
from typing import BinaryIO, TextIO


class NotRegular(OSError):
    """The path is a FIFO, a device, a socket or a directory, not a regular file."""


class TooLarge(OSError):
    """The file is larger than the cap for its kind."""


def kind_of(mode: int) -> str | None:
    """What a non-regular file is, in words (None for a regular file)."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISDIR(mode):
        return "a directory"
    return "not a regular file"


def describe(exc: OSError) -> str:
    """A short reason for an OSError from this module or from ``os.open``."""
    if isinstance(exc, (NotRegular, TooLarge)):
        return str(exc)
    if exc.errno == errno.ELOOP:
        return "a symlink loop (or a symlink where none is allowed)"
    if exc.errno == errno.ENXIO:
        return "a named pipe (FIFO) that nobody reads"
    return exc.strerror or str(exc)


def _open_checked(path: str | os.PathLike[str], follow: bool) -> int:
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    if not follow:
        flags |= os.O_NOFOLLOW
    fd = os.open(path, flags)
    try:
        mode = os.fstat(fd).st_mode
        kind = kind_of(mode)
        if kind is not None:
            raise NotRegular(errno.EINVAL, f"{os.fspath(path)} is {kind}, not a regular file")
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_regular_prefix(path: str | os.PathLike[str], size: int, *, follow: bool = True) -> bytes:
    """The first ``size`` bytes (or fewer) of the regular file ``path``."""
    fd = _open_checked(path, follow)
    with os.fdopen(fd, "rb") as handle:
        return handle.read(size)


def read_regular(path: str | os.PathLike[str], limit: int, *, follow: bool = True) -> bytes:
    """The bytes of the regular file ``path``, at most ``limit`` of them (else :class:`TooLarge`)."""
    data = read_regular_prefix(path, limit + 1, follow=follow)
    if len(data) > limit:
        raise TooLarge(errno.EFBIG, f"{os.fspath(path)} is larger than {_size(limit)}")
    return data


def read_regular_text(path: str | os.PathLike[str], limit: int, *, follow: bool = True) -> str:
    """:func:`read_regular`, decoded as UTF-8 (a :class:`UnicodeDecodeError` propagates)."""
    return read_regular(path, limit, follow=follow).decode("utf-8")


def open_regular_binary(path: str | os.PathLike[str]) -> BinaryIO:
    """A binary file object on the regular file ``path`` (for readers that seek); else :class:`NotRegular`."""
    return os.fdopen(_open_checked(path, True), "rb")


def open_for_writing(path: str | os.PathLike[str], append: bool = False) -> TextIO:
    """A text file object to write ``path`` through (a device or a pipe with a reader): never blocks.

    A FIFO without a reader fails at once with ``ENXIO`` (see :func:`describe`) instead of waiting.
    """
    flags = os.O_WRONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0) | os.O_CREAT
    flags |= os.O_APPEND if append else 0
    fd = os.open(path, flags, 0o666)
    try:
        if stat.S_ISREG(os.fstat(fd).st_mode) and not append:
            os.ftruncate(fd, 0)
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return os.fdopen(fd, "w", encoding="utf-8")


def _size(limit: int) -> str:
    return f"{limit // (1024 * 1024)} MB" if limit >= 1024 * 1024 else f"{limit:,} bytes"
