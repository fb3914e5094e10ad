"""The hub library's door: offline mode, its environment, and a total deadline on every request.

* ``--offline`` must be in force before transformers or huggingface_hub run anything: a config can
  name other repositories (DETR's ``backbone``, a sub-model id) that transformers fetches while
  loading it. :func:`force_offline` sets both the environment variable and huggingface_hub's live
  constant, which its ``is_offline_mode()`` (and transformers through it) reads on every call.
* huggingface_hub parses some environment variables with ``int()`` when it is imported; a bad value
  would be a ValueError from deep inside an import. :func:`check_environment` names the variable.
* huggingface_hub's timeouts apply per read: a server that trickles a byte every few seconds never
  trips them. :func:`call_with_deadline` bounds the whole request.
* What an error means is asked of its class here (:func:`is_offline_refusal`, :func:`is_missing_on_hub`),
  never of its name or its text elsewhere.

The requests themselves are made by ``lora_audit/model/hub.py`` only (the one hub client).
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from lora_audit.errors import AuditError, first_line

T = TypeVar("T")

#: huggingface_hub 2.4 (constants.py) reads these with int() at import time.
_INT_VARIABLES = ("HF_HUB_ETAG_TIMEOUT", "HF_HUB_DOWNLOAD_TIMEOUT")
#: Seconds for a whole hub request (connect, headers, body), however the server trickles.
DEADLINE_VARIABLE = "LORA_AUDIT_HUB_DEADLINE"


def force_offline() -> None:
    """Offline from here on, for us, huggingface_hub and transformers (``--offline``)."""
    os.environ["HF_HUB_OFFLINE"] = "1"

    constants: Any = sys.modules.get("huggingface_hub.constants")
    if constants is not None:  # already imported: it read the variable once, so set its live value too
        constants.HF_HUB_OFFLINE = True


@contextlib.contextmanager
def offline_mode(offline: bool | None) -> Iterator[None]:
    """Offline inside the block when ``offline`` is true (the Python API), as it was afterwards."""
    if not offline:
        yield
        return
    import huggingface_hub.constants as constants

    before_env, before_constant = os.environ.get("HF_HUB_OFFLINE"), constants.HF_HUB_OFFLINE
    force_offline()
    try:
        yield
    finally:
        constants.HF_HUB_OFFLINE = before_constant
        if before_env is None:
            os.environ.pop("HF_HUB_OFFLINE", None)
        else:
            os.environ["HF_HUB_OFFLINE"] = before_env


def check_environment() -> None:
    """Refuse, naming the variable, hub settings that would make huggingface_hub fail to import."""
    for name in _INT_VARIABLES:
        value = os.environ.get(name)
        if value is None:
            continue
        try:
            int(value)
        except ValueError:
            raise AuditError(
                "hub-environment",
                f"the environment variable {name}={value[:40]!r} is not a whole number of seconds",
                f"set {name} to a number such as 10, or unset it",
            ) from None
    value = os.environ.get(DEADLINE_VARIABLE)
    if value is not None and _positive_seconds(value) is None:
        raise AuditError(
            "hub-environment",
            f"the environment variable {DEADLINE_VARIABLE}={value[:40]!r} is not a positive number of seconds",
            f"set {DEADLINE_VARIABLE} to a number such as 15, or unset it",
        )
    try:
        import huggingface_hub.constants  # noqa: F401
    except Exception as exc:  # noqa: BLE001 - any other setting it cannot use
        raise AuditError(
            "hub-environment",
            f"huggingface_hub cannot start with this environment: {type(exc).__name__}: {first_line(exc, 200)}",
            "check the HF_* environment variables (HF_HOME, HF_ENDPOINT, HF_HUB_*)",
        ) from None


def _positive_seconds(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if 0 < value < 1e6 else None


def deadline(per_read_timeout: float) -> float:
    """Seconds for resolving one file: ``$LORA_AUDIT_HUB_DEADLINE``, else three per-read timeouts."""
    value = _positive_seconds(os.environ.get(DEADLINE_VARIABLE, ""))
    return value if value is not None else 3 * per_read_timeout


class DeadlineExceeded(TimeoutError):
    """The hub did not finish answering in time (it may be trickling bytes, or not answering at all)."""


def call_with_deadline(function: Callable[[], T], seconds: float, what: str) -> T:
    """``function()``, or :class:`DeadlineExceeded` once ``seconds`` have passed, whatever it is doing.

    The call runs in a daemon thread: a socket read cannot be interrupted from outside, so a request
    past its deadline is abandoned (it ends with the process), not waited for.
    """
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = function()
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
            outcome["error"] = exc

    worker = threading.Thread(target=run, name=f"lora-audit {what}", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise DeadlineExceeded(f"no complete answer in {seconds:g} s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def is_offline_refusal(exc: BaseException) -> bool:
    """huggingface_hub refused a request because offline mode is on (raised before any request is made)."""
    from huggingface_hub.errors import OfflineModeIsEnabled

    return isinstance(exc, OfflineModeIsEnabled)


def is_missing_on_hub(exc: BaseException) -> bool:
    """The hub answered that the file does not exist (not: it is neither cached nor reachable)."""
    from huggingface_hub.errors import EntryNotFoundError, LocalEntryNotFoundError

    # LocalEntryNotFoundError subclasses EntryNotFoundError: not in the cache, and the hub was not asked
    return isinstance(exc, EntryNotFoundError) and not isinstance(exc, LocalEntryNotFoundError)
