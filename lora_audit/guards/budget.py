"""What one audit may cost: checks before building, and a wall-time and memory backstop.

Before building (:func:`check_model_config`): the config's own sizes say how big the model is.
Every field that counts layers is read, whatever the architecture calls it (``num_hidden_layers``,
``encoder_layers``, ``n_layer``, ``depth``, Swin's ``depths`` list...), in the config and in every
sub-config (``text_config``, ``vision_config``...), and the total is compared with
:data:`MAX_LAYERS`. A config of junk is refused for its number of values, before transformers
copies it (it deep-copies a config several times while loading it).

While building and applying (:func:`limits`): a wall-time budget (``--timeout``, or
``$LORA_AUDIT_TIMEOUT``) and a memory budget (``$LORA_AUDIT_MAX_MEMORY_GB``), watched by a thread.
Past either, the main thread is interrupted with an ``AuditError("budget-exceeded")`` (raised as a
BaseException inside, so no library's ``except Exception`` can swallow it). C code that does not
return but releases the GIL (a blocking call) gets a grace period; then the console script reports
the error itself and exits 2 (:func:`set_hard_exit`). C code that holds the GIL (a regex
backtracking) stops every thread, the watcher too: that is why user regexes are tried in a child
process first (:mod:`lora_audit.guards.regex`) and config files are bounded before they are parsed.

Measured on the largest catalogue models (``/usr/bin/time -f "%e s %M KB" lora-audit
fixtures/models/<model> --targets all-linear --format json``, 2 shared CPU cores):
Llama-3.1-405B (126 layers) 16.6 s and 424 MB peak; DeepSeek-V3 (61 layers, 256 experts) 23.9 s
and 407 MB. The defaults (300 s, 8 GB) are more than ten times that. A config with 3,000 layers
and all-linear took 33-38 s and 1.2 GB, about 0.4 MB and 12 ms a layer: the 2,048-layer cap
keeps any config below ~1 GB before the budget is needed.
"""

from __future__ import annotations

import _thread
import contextlib
import os
import re
import signal
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from lora_audit.config.loading import count_values
from lora_audit.errors import AuditError

#: Layers lora-audit builds, summed over every depth field. The deepest published models have a few hundred.
MAX_LAYERS = 2048
#: Values (scalars, lists, objects) in a model config. The largest real ones, with a 21k-label id2label,
#: hold about 45,000; transformers copies the whole config several times while loading it.
MAX_CONFIG_VALUES = 500_000
DEFAULT_SECONDS = 300.0
DEFAULT_MEMORY_GB = 8.0
TIMEOUT_VARIABLE = "LORA_AUDIT_TIMEOUT"
MEMORY_VARIABLE = "LORA_AUDIT_MAX_MEMORY_GB"
#: After the budget is exceeded, how long code that cannot be interrupted may run before a hard exit.
GRACE_SECONDS = 5.0
#: Measured (see the module docstring): per layer built with all-linear.
_MB_PER_LAYER = 0.4
_SECONDS_PER_LAYER = 0.012

#: Keys that count layers or blocks: ``num_hidden_layers``, ``encoder_layers``, ``n_layer``, ``depth``...
_DEPTH_KEY = re.compile(r"(num_|n_)?([a-z0-9]+_)*(layers?|depths?|blocks?)")
#: ...but not thresholds, indices or frequencies that happen to end the same way.
_NOT_A_COUNT = re.compile(r"^(max|min|first|last|start|end)_|_(freq|frequency|ratio|index|indices|ids?|size)$")
#: Mappings of labels, whose keys are class names ("CD player"), never sizes.
_LABEL_MAPS = {"id2label", "label2id"}


def depth_fields(raw: dict[str, Any]) -> list[tuple[str, int]]:
    """Every ``(dotted.key, layer count)`` in a raw config and its sub-configs."""
    found: list[tuple[str, int]] = []
    pending: list[tuple[str, Any]] = [("", raw)]
    seen: set[int] = set()
    while pending:
        where, part = pending.pop()
        if id(part) in seen:
            continue
        seen.add(id(part))
        for key, value in part.items():
            if not isinstance(key, str) or key in _LABEL_MAPS:
                continue
            name = f"{where}{key}"
            if isinstance(value, dict):
                pending.append((name + ".", value))
                continue
            if not _DEPTH_KEY.fullmatch(key) or _NOT_A_COUNT.search(key):
                continue
            if isinstance(value, int) and not isinstance(value, bool):
                found.append((name, value))
            elif key.endswith("depths") and isinstance(value, list) and all(
                isinstance(v, int) and not isinstance(v, bool) for v in value
            ):
                found.append((name, sum(value)))
    return sorted(found)




def check_model_config(raw: dict[str, Any], where: str = "the config") -> None:
    """Refuse, before anything is built, a config whose sizes no real model has."""
    if count_values(raw, MAX_CONFIG_VALUES) > MAX_CONFIG_VALUES:
        raise AuditError(
            "config-too-large",
            f"{where} holds more than {MAX_CONFIG_VALUES:,} values: not a model config "
            "(the largest real ones hold tens of thousands)",
            "pass the model's config.json",
        )
    fields = depth_fields(raw)
    for name, value in fields:
        if value > MAX_LAYERS:
            raise AuditError(
                "too-many-layers",
                f"the config has {name}={value}: lora-audit builds models of up to {MAX_LAYERS} layers "
                "(the deepest published ones have a few hundred)",
                "check the config, or pass the real model's config.json",
            )
    total = sum(max(value, 0) for _, value in fields)
    if total > MAX_LAYERS:
        listed = ", ".join(f"{name}={value}" for name, value in fields if value > 0)
        raise AuditError(
            "too-many-layers",
            f"the config asks for {total:,} layers in all ({listed}): building them would need "
            f"~{total * _MB_PER_LAYER / 1024:.1f} GB and ~{total * _SECONDS_PER_LAYER:.0f} s; lora-audit builds models "
            f"of up to {MAX_LAYERS} layers",
            "check the config, or pass the real model's config.json",
        )


# --------------------------------------------------------------------------- the backstop
def seconds_budget(timeout: float | None) -> float:
    """``--timeout``, else ``$LORA_AUDIT_TIMEOUT``, else :data:`DEFAULT_SECONDS`; refused if not a positive number."""
    if timeout is None:
        text = os.environ.get(TIMEOUT_VARIABLE)
        if text is None or not text.strip():
            return DEFAULT_SECONDS
        return _positive(text, TIMEOUT_VARIABLE, "seconds, e.g. 600")
    return _positive(timeout, "--timeout", "seconds, e.g. 600")


def memory_budget() -> float:
    """Bytes: ``$LORA_AUDIT_MAX_MEMORY_GB`` (in GB), else :data:`DEFAULT_MEMORY_GB`."""
    text = os.environ.get(MEMORY_VARIABLE)
    gb = DEFAULT_MEMORY_GB if text is None or not text.strip() else _positive(text, MEMORY_VARIABLE, "GB, e.g. 16")
    return gb * 1024**3


def _positive(value: Any, name: str, unit: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        number = float("nan")
    if not 0 < number < 1e9:  # also refuses NaN
        raise AuditError("usage", f"{name}={str(value)[:40]!r} is not a positive number", f"give it in {unit}")
    return number


def _rss_bytes() -> int | None:
    try:
        with open("/proc/self/statm", "rb") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError, AttributeError):
        return None  # not Linux: the memory budget is not watched


class _Exceeded:
    """Which budget ran out, set by the watcher thread for the main thread's signal handler."""

    error: AuditError | None = None


class _Stop(BaseException):  # noqa: N818
    """Raised into the main thread. Not an Exception: libraries' ``except Exception`` must not swallow it.

    It carries the budget's error: when it lands in code around the block (contextlib's own frames, as the
    block ends), the caller catches it as :data:`Stop` and raises that error.
    """

    def __init__(self, error: AuditError | None = None) -> None:
        super().__init__(error)
        self.error = error


#: What a caller of :func:`limits` catches around it, in case the interrupt lands outside the block.
Stop = _Stop


_hard_exit: list[Callable[[AuditError], None]] = []


def set_hard_exit(callback: Callable[[AuditError], None] | None) -> None:
    """What the watcher does when the main thread cannot be interrupted (the console script: report, exit 2)."""
    _hard_exit.clear()
    if callback is not None:
        _hard_exit.append(callback)


def _exceeded_error(what: str, seconds: float, memory: float) -> AuditError:
    if what == "time":
        return AuditError(
            "budget-exceeded",
            f"the audit (reading the config, building, applying) took longer than the {seconds:g} s budget "
            "(real models take under a minute)",
            f"check the config's sizes (layers, experts, modules_to_save), or raise the budget with --timeout or "
            f"{TIMEOUT_VARIABLE}",
        )
    return AuditError(
        "budget-exceeded",
        f"building and applying needed more than the {memory / 1024**3:g} GB memory budget "
        "(real models need under 1 GB)",
        f"check the config's sizes (layers, experts, hidden sizes), or raise the budget with {MEMORY_VARIABLE}",
    )


@contextlib.contextmanager
def limits(timeout: float | None = None, poll: float = 0.1) -> Iterator[None]:
    """Run the block within the time and memory budgets, or raise ``AuditError("budget-exceeded")``.

    Watched only from the main thread (signals reach only it); elsewhere the block runs unwatched.
    """
    seconds = seconds_budget(timeout)
    memory = memory_budget()
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    state = _Exceeded()
    done = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        if state.error is not None and not done.is_set():
            raise _Stop(state.error)

    def watch() -> None:
        started = time.monotonic()
        while not done.wait(poll):
            rss = _rss_bytes()
            what = "time" if time.monotonic() - started > seconds else "memory" if rss and rss > memory else None
            if what is None:
                continue
            state.error = _exceeded_error(what, seconds, memory)
            with contextlib.suppress(Exception):
                _thread.interrupt_main(signal.SIGUSR1)
            if not done.wait(GRACE_SECONDS) and _hard_exit:
                _hard_exit[0](state.error)
            return

    try:
        previous = signal.signal(signal.SIGUSR1, on_signal)
    except (ValueError, OSError, AttributeError):  # no SIGUSR1 (Windows)
        yield
        return
    watcher = threading.Thread(target=watch, name="lora-audit budget", daemon=True)
    watcher.start()
    try:
        try:
            yield
        except _Stop as stop:
            state.error = state.error or stop.error
        finally:
            done.set()
    except _Stop as stop:  # the one interrupt arrived just as the block ended, before done was set: the same
        done.set()
        state.error = state.error or stop.error
    finally:
        watcher.join()
        signal.signal(signal.SIGUSR1, previous)
    if state.error is None:  # a block shorter than one poll is measured once, at its end
        rss = _rss_bytes()
        if rss and rss > memory:
            state.error = _exceeded_error("memory", seconds, memory)
    if state.error is not None:  # also when the block finished anyway: its result came too late to trust
        raise state.error
