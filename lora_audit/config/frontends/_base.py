"""What a front-end module builds: its :class:`Translation`, and the :class:`Expansion` of a model-dependent step.

The front-ends import these from here, and the registry (``__init__.py``) imports the front-ends:
keeping the shared records out of the registry keeps the import graph one-way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lora_audit.report import ConfigSource, plain

if TYPE_CHECKING:
    from lora_audit.config.training import TrainingSettings
    from lora_audit.model.build import BuiltModel


@dataclass
class Expansion:
    """What a model-dependent step of a translation produced once the model was built."""

    fields: dict[str, Any]  #: LoraConfig fields to set (they replace the file's)
    steps: list[str] = field(default_factory=list)  #: shown in the report, e.g. "lora_target_linear -> 7 names: ..."
    #: LoraConfig field -> the file keys it now comes from (replaces the translation's entry for that field)
    sources: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class Translation:
    """A config file as its framework reads it: the LoraConfig it builds, and how."""

    format: str  #: the front-end's NAME
    fields: dict[str, Any]  #: LoraConfig fields (PEFT's names), before any model-dependent step
    #: PEFT's ``peft_type`` of the method the file configures (``fields`` are that method's config fields)
    method: str = "LORA"
    #: the base model the file names (``base_model``, ``model_name_or_path``, ``base_model_name_or_path``)
    model: str | None = None
    #: what the framework did to the file's keys, in words, in order
    steps: list[str] = field(default_factory=list)
    #: LoraConfig fields PEFT does not know (a newer or older PEFT wrote them): ignored, reported as info
    unknown_fields: list[str] = field(default_factory=list)
    #: the quantization the file asks for, as ``LoraSpec.quantization_request``
    quantization: dict[str, Any] | None = None
    #: model-dependent step, run on the built model before PEFT applies the config
    expand: Callable[[BuiltModel], Expansion] | None = None
    #: the file's key that named ``model`` (``base_model``...)
    model_key: str | None = None
    #: the model class the framework builds, when the file decides it (axolotl's ``model_type``)
    model_class: str | None = None
    #: LoraConfig field -> the file keys it came from (``{"r": ["lora_r"]}``): for locations and hints
    sources: dict[str, list[str]] = field(default_factory=dict)
    #: how the framework spells each LoraConfig field (the module's FIELD_KEYS)
    field_keys: dict[str, str] = field(default_factory=dict)
    #: the framework's "every linear layer" switch, when the file used it (``lora_target_linear``)
    all_linear_key: str | None = None
    #: a saved adapter (``inference_mode: true``) audited as training sees it
    saved_for_inference: bool = False
    #: what the file says about the training step (batch, sequence length, precision...): the memory estimate's inputs
    training: TrainingSettings | None = None
    #: a training script's config: how each argument was read (``lora_audit.config.frontends.python.ScriptConfig``)
    script: Any = None
    #: the diffusers pipeline component the file adapts (``pipe.unet.add_adapter``)
    component: str | None = None
    #: model config values the file sets when loading (``num_labels``)
    config_overrides: dict[str, Any] = field(default_factory=dict)
    #: why the model the file loads cannot be read (``from_pretrained(args.model)``)
    model_unresolved: str | None = None
    #: filled by :func:`translate`: keys that look like LoRA but the front-end does not read -> close known keys
    unknown_keys: dict[str, list[str]] = field(default_factory=dict)
    #: filled by :func:`translate`: the framework's own keys that do not shape the LoraConfig
    ignored_keys: list[str] = field(default_factory=list)
    #: filled by :func:`translate`: the file, and the line of each top-level key and of each list item / mapping
    #: key under it (``{"lora_target_modules": {"q_proj": 12}}``)
    file: str | None = None
    key_lines: dict[str, int] = field(default_factory=dict)
    entry_lines: dict[str, dict[str, int]] = field(default_factory=dict)

    def to_report(self, fields: dict[str, Any], flags: dict[str, Any], model_from: str) -> ConfigSource:
        """The report's ``lora_config_source``: what the framework hands PEFT, and how it got there."""
        return ConfigSource(
            format=self.format,
            file=self.file,
            model=self.model,
            model_key=self.model_key,
            model_from=model_from,
            steps=list(self.steps),
            fields=plain({k: v for k, v in fields.items() if k not in flags}),
            flags=plain(dict(flags)),
            sources={k: list(v) for k, v in sorted(self.sources.items()) if k not in flags},
            unknown_keys={k: list(v) for k, v in self.unknown_keys.items()},
            ignored_keys=list(self.ignored_keys),
            saved_for_inference=self.saved_for_inference,
            all_linear_key=self.all_linear_key,
            field_keys=dict(self.field_keys),
            key_lines=dict(self.key_lines),
            entry_lines={k: dict(v) for k, v in self.entry_lines.items()
                         if any(k in keys for keys in self.sources.values())},
            script=self.script.report(flags) if self.script is not None else None,
        )


def named_model(data: dict[str, Any], *keys: str) -> tuple[str | None, str | None]:
    """``(model, key)``: the first of ``keys`` whose value is a non-blank string, stripped, and that key."""
    key = next((k for k in keys if isinstance(data.get(k), str) and data[k].strip()), None)
    return (data[key].strip() if key else None), key
