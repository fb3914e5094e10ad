"""The one exception type for user mistakes.

Anything the user can fix (a missing path, a bad flag value, a model the hub will not give us)
is raised as :class:`AuditError`. The CLI turns it into one line on stderr and exit code 2;
the Python API lets it propagate. Anything else is a bug: the CLI and the API report it as an
``internal-error`` AuditError (see :func:`internal_error`).
"""

from __future__ import annotations

from lora_audit.errors.codes import CODES


def first_line(exc: BaseException, limit: int = 300) -> str:
    """The first line of an exception's message, cut at ``limit``: enough to name a library's complaint."""
    text = str(exc).strip().splitlines()
    return text[0][:limit] if text else type(exc).__name__


class AuditError(Exception):
    """A problem with the user's input: says what is wrong and how to fix it.

    ``code`` is a stable slug for machines (``model-not-found``, ``invalid-lora-value``, ...),
    ``message`` names the problem, ``hint`` says what to do about it.
    """

    def __init__(self, code: str, message: str, hint: str = "") -> None:
        if code not in CODES:  # a bug: every code is registered, with its documentation, in errors/codes.py
            raise ValueError(f"unregistered error code {code!r}: add it to lora_audit/errors/codes.py")
        super().__init__(message)
        self.code = code
        self.message = message
        self.hint = hint

    def one_line(self) -> str:
        """``message`` and ``hint`` joined on one line, without trailing punctuation doubled."""
        text = _sentence(self.message)
        if self.hint:
            text += " " + _sentence(self.hint)
        return " ".join(text.split())

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message, "hint": self.hint}


def _sentence(text: str) -> str:
    """``text`` ending in exactly one full stop, unless it already ends as a question or exclamation."""
    text = text.rstrip(". ")
    return text if text.endswith(("?", "!")) else text + "."


ISSUES_URL = "https://github.com/lora-audit/lora-audit/issues"


def internal_error(exc: BaseException) -> AuditError:
    """An unexpected exception (a bug in lora-audit or a library) as the ``internal-error`` AuditError."""
    if isinstance(exc, MemoryError):
        return AuditError(
            "budget-exceeded",
            "the audit ran out of memory",
            "check the config's sizes (layers, experts, hidden_size), or raise the memory budget with "
            "LORA_AUDIT_MAX_MEMORY_GB",
        )
    return AuditError(
        "internal-error",
        f"internal error: {type(exc).__name__}: {first_line(exc, 200)}",
        f"this is a bug in lora-audit: please report it at {ISSUES_URL} with the command you ran "
        "(--debug prints the traceback)",
    )
