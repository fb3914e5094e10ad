"""What a training config says about the step it runs: the inputs of the memory estimate.

Front-ends fill :class:`TrainingSettings` from the keys their framework reads (axolotl's
``micro_batch_size``, LLaMA-Factory's ``cutoff_len``, a script's ``TrainingArguments(...)``), each
value with where it came from, so the report can say which value came from the file, which from a
flag, and which is a default. A front-end leaves a field None when the file does not set it; it
never guesses one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class TrainingSetting:
    """One value of the training step, and where it was written."""

    value: Any  #: as the framework reads it (int, bool, str)
    key: str  #: the key or argument that set it: ``micro_batch_size``, ``TrainingArguments(bf16=...)``
    file: str | None = None
    line: int | None = None


@dataclass(frozen=True)
class TrainingSettings:
    """The training step as a config file sets it; None: the file does not say."""

    batch_size: TrainingSetting | None = None  #: per-device micro-batch
    seq_len: TrainingSetting | None = None  #: tokens per sequence (the framework's cut-off / max length)
    gradient_checkpointing: TrainingSetting | None = None  #: True/False, or "reentrant" / "non-reentrant"
    precision: TrainingSetting | None = None  #: bf16 | fp16 | fp32 | bf16-autocast
    optimizer: TrainingSetting | None = None  #: the HF Trainer's ``optim`` names (adamw_torch, paged_adamw_8bit...)
    attention: TrainingSetting | None = None  #: sdpa | eager | flash_attention_2
    #: settings the framework decides in ways the front-end does not read yet: they must come from a flag
    unread: tuple[str, ...] = ()
    framework: str | None = None  #: the front-end's name, for the message about ``unread``


def from_keys(data: dict[str, Any], keys: dict[str, tuple[str, ...]], file: str, lines: dict[str, int],
              unread: tuple[str, ...] = (), framework: str | None = None) -> TrainingSettings:
    """Training settings from a framework config's top-level keys: ``keys`` maps a setting to the keys that set it.

    ``precision`` is read from ``bf16`` / ``fp16`` switches (true: that precision); any other setting
    takes the key's value as written.
    """
    found: dict[str, TrainingSetting] = {}
    for name, candidates in keys.items():
        for key in candidates:
            if key not in data or data[key] is None:
                continue
            value = data[key]
            if name == "precision":
                if value is not True:
                    continue
                value = key
            found[name] = TrainingSetting(value, key, file, lines.get(key))
            break
    return TrainingSettings(**found, unread=unread, framework=framework)
