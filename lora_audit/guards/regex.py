"""Every user regular expression, tried against the model's module names under a time limit, before PEFT.

PEFT 0.21 runs the user's text through Python's ``re`` against every module name
(``tuners_utils.py``: ``re.fullmatch(target_modules, key)``, ``re.fullmatch(exclude_modules, key)``,
``re.match(rf"(^|.*\\.){m}($|\\..*)", key)`` for ``modules_to_save``, ``re.match(rf"(?:^|.*?\\.){pattern}\\.
(?P<idx>\\d+)\\.", key)`` for ``layers_pattern``; ``utils/other.py``: ``re.match(rf"(.*\\.)?({key})$", name)``
for ``rank_pattern`` / ``alpha_pattern`` keys). A pattern like ``(.*.*)*x`` backtracks
catastrophically there: minutes per name, and ``re`` holds the interpreter while it runs, so no timer
in this process can stop it. The trial therefore runs the same ``re`` calls in a forked child that is
killed at the deadline. Names without regex syntax cannot backtrack and are not tried, so an audit
with plain ``--targets q_proj,v_proj`` forks nothing.
"""

from __future__ import annotations

import contextlib
import os
import re
import select
import signal
import time
from dataclasses import dataclass

from lora_audit.errors import AuditError

#: The LoraConfig fields whose text PEFT hands to ``re``.
FIELDS = ("target_modules", "exclude_modules", "modules_to_save", "layers_pattern", "rank_pattern", "alpha_pattern")
#: Seconds for all of one config's patterns against all module names. Real patterns take milliseconds.
TIME_LIMIT = 2.0
#: Characters that make a name a pattern (anything else matches literally, in linear time).
_PLAIN = re.compile(r"[\w.\-/ ]*")
#: A repeated group that itself repeats something: the shape of catastrophic backtracking.
_NESTED_REPEAT = re.compile(r"\((?:\?:)?[^()]*[*+}][^()]*\)[*+{]")


@dataclass
class Trial:
    """One user pattern as PEFT uses it: the field, the user's text, the regex PEFT builds, and how it applies it."""

    field: str
    text: str
    regex: str
    full: bool  #: re.fullmatch (True) or re.match (False)


def trials(fields: dict) -> list[Trial]:
    """The patterns of a LoraConfig's fields that PEFT hands to ``re``, embedded as PEFT embeds them."""
    out: list[Trial] = []
    for name in ("target_modules", "exclude_modules"):
        value = fields.get(name)
        if isinstance(value, str) and value.lower() != "all-linear":
            out.append(Trial(name, value, value, True))
    for item in fields.get("modules_to_save") or []:
        if isinstance(item, str):
            out.append(Trial("modules_to_save", item, rf"(^|.*\.){item}($|\..*)", False))
    layers_pattern = fields.get("layers_pattern")
    for item in [layers_pattern] if isinstance(layers_pattern, str) else layers_pattern or []:
        if isinstance(item, str):
            out.append(Trial("layers_pattern", item, rf"(?:^|.*?\.){item}\.(?P<idx>\d+)\.", False))
    for name in ("rank_pattern", "alpha_pattern"):
        for key in fields.get(name) or {}:
            if isinstance(key, str):
                out.append(Trial(name, key, rf"(.*\.)?({key})$", False))
    return [t for t in out if not _PLAIN.fullmatch(t.text)]


def check(fields: dict, names: list[str], limit: float | None = None) -> None:
    """Raise ``AuditError("regex-too-slow")`` if a pattern in ``fields`` does not finish on ``names`` in time."""
    tried = trials(fields)
    if not tried or not names:
        return
    slow = _slow_trial(tried, names, TIME_LIMIT if limit is None else limit)
    if slow is not None:
        part = _NESTED_REPEAT.search(slow.text)
        where = ""
        if part is not None:
            where = f": the nested repetition {part.group()!r} can match one text in exponentially many ways"
        raise AuditError(
            "regex-too-slow",
            f"{slow.field}: the pattern {_short(slow.text)} backtracks catastrophically on this model's module names"
            f"{where}",
            "rewrite it without a repeated group that repeats (e.g. '.*q_proj' instead of '(.*.*)*q_proj'), "
            "or list the module names",
        )


def _short(text: str, limit: int = 80) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "...")


def _slow_trial(tried: list[Trial], names: list[str], limit: float) -> Trial | None:
    """The first trial that is still running at the deadline, in a forked child; None if all finished."""
    if not hasattr(os, "fork"):  # pragma: no cover - Windows: no way to stop re from outside
        return None
    compiled = [(re.compile(t.regex), t.full) for t in tried]  # compile errors were reported in lora_config
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report each trial as it starts, then leave without running any cleanup
        try:
            os.close(read_end)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            for index, (regex, full) in enumerate(compiled):
                os.write(write_end, f"{index}\n".encode())
                apply = regex.fullmatch if full else regex.match
                for name in names:
                    apply(name)
            os.write(write_end, b"done\n")
        finally:
            os._exit(0)
    os.close(write_end)
    received = b""
    timed_out = False
    deadline = time.monotonic() + limit
    try:
        while b"done" not in received:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([read_end], [], [], left)[0]:
                timed_out = True
                break
            chunk = os.read(read_end, 4096)
            if not chunk:  # the child died: no verdict, PEFT will say what it thinks of the pattern
                break
            received += chunk
    finally:
        os.close(read_end)
        if b"done" not in received:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)
    if not timed_out:
        return None
    started = [int(line) for line in received.split() if line.isdigit()]
    return tried[started[-1]] if started else tried[0]
