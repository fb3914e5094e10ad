"""Collect what PEFT and transformers say (warnings.warn and logging) instead of letting it reach stderr.

The audit turns these messages into findings; a linter that sprays library warnings over its
own output is hard to read and harder to parse in CI.
"""

from __future__ import annotations

import contextlib
import logging
import re
import warnings
from collections.abc import Iterator

from lora_audit.report import PeftMessage

#: Library chatter that says nothing about the user's LoRA config (deprecations inside PEFT's
#: own calls into transformers, meta-device notes). Dropped, not reported.
NOISE = [
    re.compile(r"is_gradient_checkpointing` is deprecated"),
    re.compile(r"copying from a non-meta parameter in the state dict to a meta parameter", re.I),
]

_LOGGERS = ("peft", "transformers", "diffusers", "huggingface_hub", "accelerate")

#: Loggers that speak while a library is being imported, about the machine, not the user's config.
#: bitsandbytes 0.50.2 (``bitsandbytes/backends/cpu/ops.py``), imported by PEFT when installed, asks the
#: ``kernels`` package for a CPU kernel from the hub on a CPU with AVX512-BF16 and logs a warning when it
#: cannot have one (always, offline); ``kernels`` logs that it skipped its publisher check. Both would
#: print on every run of the command. Their errors still print.
IMPORT_NOISE = ("bitsandbytes", "kernels")


def quiet_import_noise() -> None:
    """Raise :data:`IMPORT_NOISE`'s loggers to ERROR: the console script does this, the API does not."""
    for name in IMPORT_NOISE:
        logging.getLogger(name).setLevel(logging.ERROR)


class _ListHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextlib.contextmanager
def capture_messages(stage: str) -> Iterator[list[PeftMessage]]:
    """Yield a list that, on exit, holds the warnings and log records emitted inside the block."""
    messages: list[PeftMessage] = []
    handler = _ListHandler()
    saved = []
    for name in _LOGGERS:
        logger = logging.getLogger(name)
        saved.append((logger, logger.propagate, list(logger.handlers)))
        logger.handlers = [handler]
        logger.propagate = False
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield messages
    finally:
        for logger, propagate, handlers in saved:
            logger.handlers = handlers
            logger.propagate = propagate
        seen: set[str] = set()
        for w in caught:
            _add(messages, seen, stage, w.category.__name__, str(w.message))
        for record in handler.records:
            _add(messages, seen, stage, f"log.{record.levelname.lower()}", record.getMessage())


def _add(messages: list[PeftMessage], seen: set[str], stage: str, category: str, text: str) -> None:
    text = text.strip()
    if not text or text in seen or any(p.search(text) for p in NOISE):
        return
    seen.add(text)
    messages.append(PeftMessage(stage=stage, level="warning", category=category, message=text))
