"""What an audit is asked to do: one typed, frozen record of its inputs (:class:`AuditRequest`).

``lora_audit.audit(...)`` builds one from its keyword arguments (or takes one as is); the pipeline,
the result cache and ``lora-audit check`` pass it along instead of fifteen keywords. Nothing here
imports torch, transformers or peft: the types they name are for the type checker only.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:
    from peft import LoraConfig
    from torch import nn

    from lora_audit.model.source import ModelSource
    from lora_audit.rules.settings import Settings

#: A model: a hub id (``"Qwen/Qwen2.5-0.5B"``), a local directory or config.json, an ``nn.Module``,
#: an already located config (the result cache passes one), or None for the model the config file names.
ModelArg: TypeAlias = "str | os.PathLike[str] | nn.Module | ModelSource | None"
#: A LoRA config: a ``peft.LoraConfig``, a mapping of its fields, or None (flags / a file give it).
LoraConfigArg: TypeAlias = "LoraConfig | Mapping[str, Any] | None"
#: A path given as a string or a path object.
PathArg: TypeAlias = "str | os.PathLike[str]"


@dataclass(frozen=True)
class MemoryRequest:
    """Ask for the peak memory of one training step; None fields come from the config file, else defaults.

    >>> MemoryRequest(batch=1, seq_len=2048, gpus=("RTX4090",)).precision is None
    True
    """

    batch: int | None = None  #: per-device micro-batch
    seq_len: int | None = None  #: tokens per sequence
    gradient_checkpointing: str | None = None  #: off | reentrant | non-reentrant
    precision: str | None = None  #: bf16 | fp16 | fp32 | bf16-autocast
    optimizer: str | None = None  #: adamw_torch | adamw_torch_fused | adamw_8bit | sgd
    attention: str | None = None  #: sdpa | eager | flash_attention_2 (modelled as sdpa)
    gpus: tuple[str, ...] = ()  #: cards to give a verdict for (``RTX4090``, ``A100-80GB``, ``24GB``)


@dataclass(frozen=True)
class AuditRequest:
    """Everything an audit takes as input. Every field but ``model`` has the default ``audit()`` documents.

    >>> request = AuditRequest("Qwen/Qwen2.5-0.5B", {"r": 8, "target_modules": ["q_proj"]}, offline=True)
    >>> request.with_changes(revision="main").revision
    'main'
    """

    #: the model to audit (see :data:`ModelArg`)
    model: ModelArg = None
    #: a ``peft.LoraConfig`` or a mapping of its fields (left untouched)
    lora_config: LoraConfigArg = None
    #: a LoRA config file: a PEFT JSON/YAML, an adapter directory, or a training framework's config
    config_file: PathArg | None = None
    #: LoraConfig fields that win over the file's (the command line's flags)
    overrides: Mapping[str, Any] | None = None
    #: the hub revision of the model
    revision: str | None = None
    #: the PEFT task type (``SEQ_CLS``...), which also picks the head class
    task_type: str | None = None
    #: the model class to build (``LlamaForSequenceClassification``)
    model_class: str | None = None
    #: run the repository's own modelling code
    trust_remote_code: bool = False
    #: never contact the hub (None: as ``HF_HUB_OFFLINE`` says)
    offline: bool | None = None
    #: a diffusers pipeline's part to audit (default: the unet or transformer)
    component: str | None = None
    #: the rules' settings (None: every rule, the defaults)
    settings: Settings | None = None
    #: called with a short progress message at each stage
    status: Callable[[str], object] | None = None
    #: a saved adapter to check against the base (directory, ``.safetensors`` file or hub id)
    adapter: PathArg | None = None
    #: the quantization training loads the base with (``{"method": "bitsandbytes", "bits": 4}``)
    quantization_request: Mapping[str, Any] | None = None
    #: the wall-time budget in seconds (None: ``$LORA_AUDIT_TIMEOUT``, else 300)
    timeout: float | None = None
    #: which of the configs a training script builds (0-based; None: the only one)
    config_select: int | None = None
    #: estimate the peak training memory (None: no estimate)
    memory: MemoryRequest | None = None
    #: build this model's config instead of ``model``'s (a re-upload the catalogue does not hold by its own id)
    assume_base: str | None = None

    def with_changes(self, **changes: Any) -> AuditRequest:
        """A copy with some fields replaced (the request itself never changes)."""
        return replace(self, **changes)

    def cache_flags(self) -> dict[str, Any]:
        """The inputs besides the model and the config file that change an audit's facts (the result cache's key)."""
        return {
            "overrides": None if self.overrides is None else dict(self.overrides),
            "revision": self.revision,
            "task_type": self.task_type,
            "model_class": self.model_class,
            "trust_remote_code": bool(self.trust_remote_code),
            "config_select": self.config_select,
            "memory": None if self.memory is None else {k: v for k, v in vars(self.memory).items()},
            "assume_base": self.assume_base,
            "quantization_request": None if self.quantization_request is None else dict(self.quantization_request),
        }


__all__ = ["AuditRequest", "MemoryRequest", "LoraConfigArg", "ModelArg", "PathArg"]
