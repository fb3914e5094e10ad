"""Text from inputs, made safe to print: the one place each output format's escaping lives.

Every string in a :class:`~lora_audit.report.Report` may have come from a file a pull request controls
(a module, target or model name, a quantizer's skip list, an adapter header, a kohya tensor name, a
path, an error message that quotes them). Each format renders a copy of the report whose strings went
through that format's escaper here (:func:`for_format`), so no renderer has to remember which of its
strings are dangerous:

- terminal and CI logs (:func:`visible`): control characters (C0, DEL, C1: ANSI escape sequences
  among them), bidi overrides, zero-width characters, line separators and lone surrogates are shown
  escaped (``\\x1b``, ``\\u202e``), so a name cannot move the cursor, recolour the terminal, hide text or
  start a new line; and ``::`` / ``##[`` are shown as ``\\x3a:`` / ``\\x23#[``, so no line a config
  controls can be a GitHub workflow command, even where the terminal wraps it. rich markup in data is
  never interpreted (the terminal renderer prints with ``markup=False``).
- github (:func:`github_data`, :func:`github_property`): the same, then the escaping of GitHub's toolkit
  (``@actions/core`` command.ts): ``%``, CR and LF in data, also ``:`` and ``,`` in properties.
- markdown: the same as the terminal, then every input string goes through a code span or escaped
  prose (``markdown._code`` / ``markdown._text``): no raw HTML, links or ``@mentions``.
- SARIF (:func:`sarif_uri`): relative URIs, percent-encoded.
- JSON and GitLab's code-quality JSON: ``json.dumps`` escapes every control character; strings stay as
  they were, so machines read the real names.
"""

from __future__ import annotations

import copy
import dataclasses
import re
import urllib.parse
from collections.abc import Callable
from typing import Any, TypeVar

from lora_audit.errors import AuditError

_SURROGATE = re.compile("[\ud800-\udfff]")
#: What a terminal or a log would obey or hide instead of showing: C0 and C1 controls and DEL, zero-width
#: characters and joiners, bidi embeddings, overrides and isolates, line and paragraph separators, the
#: byte-order mark, and lone surrogates (which cannot be encoded).
_INVISIBLE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ud800-\udfff]"
)
#: Workflow commands GitHub's runner obeys in a log line: ``::name ...::`` (v2) and ``##[name]`` (v1).
_COMMAND = re.compile(r"::|##\[")

T = TypeVar("T")


def escape_surrogates(text: str) -> str:
    """``text`` with every lone surrogate written as ``\\udXXX``: encodable in UTF-8, and visible."""
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _shown(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str) -> str:
    """``text`` as a terminal or a CI log may print it: nothing hidden, nothing obeyed (see the module doc)."""
    text = _INVISIBLE.sub(_shown, text)
    return _COMMAND.sub(lambda m: "\\x3a:" if m.group() == "::" else "\\x23#[", text)


def github_data(text: str) -> str:
    """The message of a workflow command (``::error ...::MESSAGE``), as ``@actions/core`` escapes it."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def github_property(text: str) -> str:
    """A property of a workflow command (``file=``, ``title=``): data escaping, and ``:`` and ``,`` too."""
    return github_data(text).replace(":", "%3A").replace(",", "%2C")


def sarif_uri(path: str) -> str:
    """A path as a SARIF ``artifactLocation.uri``: percent-encoded, so never a URI with a scheme (such as
    ``javascript:``); relative to the checkout when the CI formats made it so, else the absolute path."""
    return urllib.parse.quote(path.replace("\\", "/"), safe="/")


def sanitized(value: T, escape: Callable[[str], str]) -> T:
    """A copy of ``value`` (a report, a check run, or anything inside them) with every string escaped.

    Dataclasses (frozen or not) are copied field by field without calling their ``__init__``; lists,
    tuples, dicts and :class:`AuditError` s are rebuilt; numbers, booleans and None are kept. The
    original is never modified.
    """
    memo: dict[int, Any] = {}

    def walk(obj: Any) -> Any:
        if isinstance(obj, str):
            return escape(obj)
        if obj is None or isinstance(obj, (bool, int, float, bytes)):
            return obj
        key = id(obj)
        if key in memo:
            return memo[key]
        if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
            new = copy.copy(obj)
            memo[key] = new
            for f in dataclasses.fields(obj):
                object.__setattr__(new, f.name, walk(getattr(obj, f.name)))
            return new
        if isinstance(obj, AuditError):
            error = AuditError(obj.code, escape(obj.message), escape(obj.hint))
            memo[key] = error
            return error
        if isinstance(obj, list):
            out: list[Any] = []
            memo[key] = out
            out.extend(walk(item) for item in obj)
            return out
        if isinstance(obj, tuple):
            items = tuple(walk(item) for item in obj)
            memo[key] = items
            return items
        if isinstance(obj, dict):
            mapping: dict[Any, Any] = {}
            memo[key] = mapping
            mapping.update((walk(k), walk(v)) for k, v in obj.items())
            return mapping
        return obj

    result: T = walk(value)
    return result
