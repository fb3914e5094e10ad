"""A training script, notebook or Markdown tutorial: the LoRA configs its code builds, read statically.

The file is parsed with :mod:`ast` and never run, imported or evaluated
(:mod:`lora_audit.config.static`). Each config the code builds is one :class:`Translation`, labelled
with its line; the model each goes with follows the data flow a reader sees: the model passed to
``get_peft_model`` / ``add_adapter`` / a trainer, else the one loaded nearest before the config.

What the calls mean was read from the libraries' own code:

- PEFT 0.21.2 (PyPI): ``LoraConfig(**fields)`` takes keyword arguments only as dataclass fields (an
  unknown one is a ``TypeError``); ``get_peft_model(model, peft_config)``,
  ``prepare_model_for_kbit_training(model)`` (``peft/utils/other.py``: freezes the base, upcasts
  non-quantized fp16/bf16 parameters; it changes no count), ``PeftModel.from_pretrained(model, path,
  is_trainable=False)``; ``TaskType.CAUSAL_LM`` is the string ``"CAUSAL_LM"`` (``peft/utils/peft_types.py``).
- transformers 5.24.0: ``Auto*.from_pretrained(id, ...)`` builds that Auto class's head, a concrete class
  (``LlamaForCausalLM``) builds itself; ``num_labels=`` is a config override
  (``PretrainedConfig.from_pretrained`` kwargs); ``quantization_config=BitsAndBytesConfig(load_in_4bit=...)``
  and the legacy ``load_in_4bit`` / ``load_in_8bit`` keywords ask for bitsandbytes; ``model.add_adapter(config)``
  (``integrations/peft.py`` ``PeftAdapterMixin.add_adapter``: ``inject_adapter_in_model``);
  ``TrainingArguments(per_device_train_batch_size=8, gradient_checkpointing=False, bf16=False, optim="adamw_torch")``
  defaults are the HF Trainer's.
- TRL 1.16.0 (huggingface/trl f2cd57710ae345ea6428ae95363267fcf38a3dc8): every trainer takes ``model`` (an
  id or a model) and ``peft_config``; with an id, ``create_model_from_path`` builds ``architectures[0]``;
  ``SFTConfig.max_length`` (default 1024) is the sequence length.
- unsloth (unslothai/unsloth 015bdef0d94a241bcd94eec7a405b1700632180d, ``unsloth/models/loader.py`` and
  ``unsloth/models/llama.py``): ``FastLanguageModel.from_pretrained(model_name, max_seq_length=2048,
  load_in_4bit=True, ...)`` returns ``(model, tokenizer)``; ``FastLanguageModel.get_peft_model(model, r=16,
  target_modules=[q,k,v,o,gate,up,down]_proj, lora_alpha=16, lora_dropout=0.0, bias="none",
  layers_to_transform=None, use_rslora=False, modules_to_save=None, ...)`` builds
  ``LoraConfig(task_type=CAUSAL_LM, ...)`` with ``embed_tokens`` moved from ``target_modules`` to
  ``modules_to_save``, and only ``lm_head`` / ``embed_tokens`` allowed in ``modules_to_save``. On a
  mixture-of-experts model it also adds the experts' ``target_parameters``, which this reading does not
  reproduce: such a model is refused rather than counted without them.
- diffusers 0.42.1: ``pipe.unet.add_adapter(config)`` / ``pipe.transformer.add_adapter(config)`` /
  ``UNet2DConditionModel.from_pretrained(id, subfolder="unet").add_adapter(config)`` adapt that component
  of the pipeline ``*.from_pretrained(id)`` loaded.

A value reading cannot know (``r=args.rank``) is never guessed: the translation lists it as unresolved
with its line and expression, and the audit stops unless a flag supplies it.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lora_audit.config import methods
from lora_audit.config.frontends import peft as peft_frontend
from lora_audit.config.frontends import trl as trl_frontend
from lora_audit.config.frontends._base import Expansion, Translation
from lora_audit.config.loading import ADAPTER_CONFIG_NAME, LoadedFile, load_config_file
from lora_audit.config.static.evaluate import (
    Attribute,
    Call,
    Dotted,
    Evaluation,
    Item,
    LocalDefinition,
    Place,
    Unresolved,
    Value,
    evaluate,
)
from lora_audit.config.static.sources import Program, read_program
from lora_audit.config.training import TrainingSetting, TrainingSettings
from lora_audit.errors import AuditError

if TYPE_CHECKING:
    from lora_audit.model.build import BuiltModel

NAME = "python"

#: The flag that supplies each LoraConfig field a script leaves unresolved.
FLAGS = {
    "r": "-r/--rank", "lora_alpha": "--alpha", "lora_dropout": "--dropout", "target_modules": "--targets",
    "target_parameters": "--target-parameters", "bias": "--bias", "modules_to_save": "--modules-to-save",
    "exclude_modules": "--exclude-modules", "layers_to_transform": "--layers", "layers_pattern": "--layers-pattern",
    "rank_pattern": "--rank-pattern", "alpha_pattern": "--alpha-pattern", "use_dora": "--dora",
    "use_rslora": "--rslora", "fan_in_fan_out": "--fan-in-fan-out", "task_type": "--task-type",
}
#: Fields that decide nothing the audit counts (weights' initial values): unresolved, they are left at
#: PEFT's default and the report says so.
VALUE_ONLY = frozenset({"init_lora_weights"})
#: unsloth's get_peft_model defaults (unsloth/models/llama.py at the commit above).
UNSLOTH_DEFAULTS: dict[str, Any] = {
    "r": 16,
    "target_modules": ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
    "lora_alpha": 16, "lora_dropout": 0.0, "bias": "none", "layers_to_transform": None, "layers_pattern": None,
    "use_rslora": False, "modules_to_save": None, "target_parameters": None,
}
#: unsloth's get_peft_model keywords that are not LoraConfig fields (its own switches).
_UNSLOTH_OWN = frozenset({"model", "use_gradient_checkpointing", "random_state", "max_seq_length", "temporary_location",
                          "qat_scheme", "finetune_last_n_layers", "loftq_config", "ensure_weight_tying"})
#: transformers' model classes built by ``from_pretrained``: Auto classes and ``*For<Head>`` / ``*Model``.
_MODEL_CLASS = re.compile(r"^(Auto\w*Model\w*|\w+(For\w+|Model|LMHeadModel))$")
_UNSLOTH_LOADERS = ("FastLanguageModel", "FastModel", "FastVisionModel", "FastLlamaModel", "FastQwen2Model",
                    "FastMistralModel", "FastGemmaModel", "FastGemma2Model")
#: TRL trainers and the HF Trainer (``model=``, ``peft_config=``, ``args=``).
_TRAINER = re.compile(r"^\w*Trainer$")
#: Training-argument classes whose fields are recorded for the memory estimate.
_TRAINING_ARGS = re.compile(r"^(TrainingArguments|Seq2SeqTrainingArguments|\w+Config)$")
_PEFT_CONFIG = re.compile(r"^\w+Config$")
_DIFFUSERS_COMPONENTS = ("unet", "transformer", "text_encoder", "text_encoder_2", "prior", "decoder")


@dataclass
class Argument:
    """One argument of the config call as read: resolved, or why not."""

    name: str
    place: Place
    expression: str | None = None  #: when unresolved: the expression as written
    why: str | None = None  #: when unresolved
    value: Any = None
    origin: str = "script"  #: script | default (the library's own default) | flag

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "line": self.place.line, "cell": self.place.cell,
                               "resolved": self.why is None, "from": self.origin}
        if self.why is not None:
            out["expression"] = self.expression
            out["why"] = self.why
        return out


@dataclass
class ScriptConfig:
    """One config a script builds, what it goes with, and how it was read."""

    call: str  #: LoraConfig | FastLanguageModel.get_peft_model | ...
    place: Place
    fields: dict[str, Any]
    arguments: list[Argument]
    unresolved: dict[str, Argument]
    steps: list[str] = field(default_factory=list)
    model: str | None = None
    model_place: Place | None = None
    model_unresolved: str | None = None  #: why the model's id cannot be read
    model_class: str | None = None
    component: str | None = None
    quantization: dict[str, Any] | None = None
    config_overrides: dict[str, Any] = field(default_factory=dict)
    training: TrainingSettings | None = None
    #: why this config cannot be audited at all (built in a loop, a custom subclass, another PEFT method)
    refused: AuditError | None = None
    unsloth: bool = False
    #: per argument: the line of each list item / mapping key (``{"target_modules": {"q_proj": 12}}``)
    entry_lines: dict[str, dict[str, int]] = field(default_factory=dict)
    #: the model argument of unsloth's get_peft_model / PeftModel.from_pretrained
    model_value: Value | None = None
    #: PeftModel.from_pretrained: the adapter_config.json read, and its fields PEFT does not know
    saved_adapter: str | None = None
    unknown_fields: list[str] = field(default_factory=list)
    #: the call's arguments are LoraConfig fields (not for TRL's ModelConfig or a saved adapter's path)
    arguments_are_fields: bool = True
    #: a model-dependent step of the framework the script calls (TRL sets the task type after building)
    expand: Any = None
    #: PEFT's peft_type of the config class the script builds (``LoHaConfig(...)``: LOHA)
    method: str = "LORA"
    #: TRL's ModelConfig: LoraConfig field -> the ModelConfig argument it came from
    trl_keys: dict[str, str] = field(default_factory=dict)
    #: how the model was found, when not from the call itself (xtuner: "SupervisedFinetune's llm")
    model_how: str | None = None

    #: the program the config was read from (for the cells of a notebook)
    program: Program | None = None

    @property
    def label(self) -> str:
        return str(self.place)

    def report(self, flags: dict[str, Any]) -> dict[str, Any]:
        """The JSON ``lora_config_source.script``: the call, its place, and every argument as read."""
        arguments = []
        for argument in self.arguments:
            entry = argument.to_dict()
            if argument.name in flags:
                entry["from"] = "flag"
            arguments.append(entry)
        lines = {a.place.line for a in self.arguments if a.place.line is not None}
        lines |= {line for items in self.entry_lines.values() for line in items.values()}
        cells = self.program.cell_labels(lines) if self.program is not None and self.program.kind == "notebook" else {}
        return {
            "kind": self.program.kind if self.program is not None else "python",
            "call": self.call,
            "line": self.place.line,
            "cell": self.place.cell,
            "model_line": self.model_place.line if self.model_place is not None else None,
            "arguments": arguments,
            "cells": {str(line): label for line, label in sorted(cells.items())},
        }


# --------------------------------------------------------------------------- the registry's interface
def detect(data: dict[str, Any]) -> int:
    return 0  # never a JSON/YAML mapping: scripts are recognised by load_config_file


def read_configs(loaded: LoadedFile) -> list[ScriptConfig]:
    """Every config the script builds, in order of their lines; an AuditError when it builds none."""
    program = loaded.program if loaded.program is not None else read_program(loaded.path, "python", loaded.text)
    evaluation = evaluate(program)
    configs = _Reader(program, evaluation).configs()
    if not configs:
        skipped = f" ({'; '.join(program.skipped[:3])})" if program.skipped else ""
        raise AuditError(
            "not-a-lora-config",
            f"{loaded.path} builds no LoRA config: no LoraConfig(...), get_peft_model or unsloth get_peft_model "
            f"call was found{skipped}",
            "pass the script that builds the LoraConfig, or a JSON/YAML config file",
        )
    return configs


def translate(loaded: LoadedFile, select: int | None = None) -> Translation:
    """The ``select``-th config (0-based) of the script; with several and no choice, an AuditError naming them."""
    configs = read_configs(loaded)
    if select is None:
        if len(configs) > 1:
            raise AuditError(
                "script-several-configs",
                f"{loaded.path} builds {len(configs)} LoRA configs ({', '.join(c.label for c in configs[:6])})",
                "audit them all with lora-audit FILE (one audit per config), or choose one in the Python API",
            )
        select = 0
    if not 0 <= select < len(configs):
        raise AuditError("script-several-configs", f"{loaded.path} builds {len(configs)} LoRA configs, not "
                         f"{select + 1}", "choose one of them by its number")
    config = configs[select]
    if config.refused is not None:
        raise config.refused
    return to_translation(config, str(loaded.path), loaded)


def to_translation(config: ScriptConfig, file: str, loaded: LoadedFile) -> Translation:
    key_lines = {a.name: a.place.line for a in config.arguments if a.place.line is not None}
    translation = Translation(
        format=NAME,
        fields=dict(config.fields),
        method=config.method,
        model=config.model,
        model_key=f"{config.model_place}" if config.model_place is not None else None,
        steps=list(config.steps),
        quantization=config.quantization,
        model_class=config.model_class,
        sources={a.name: [a.name] for a in config.arguments if a.origin == "script" and a.why is None},
        field_keys={},
        all_linear_key="target_modules" if config.fields.get("target_modules") == "all-linear" else None,
        training=config.training,
        unknown_fields=list(config.unknown_fields),
        saved_for_inference=config.saved_adapter is not None,
    )
    translation.script = config
    translation.component = config.component
    translation.config_overrides = dict(config.config_overrides)
    translation.model_unresolved = config.model_unresolved
    translation.key_lines = key_lines
    translation.entry_lines = {k: dict(v) for k, v in config.entry_lines.items()}
    if config.unsloth:
        translation.expand = _unsloth_expand
    elif config.expand is not None:
        translation.expand = config.expand
    if config.trl_keys:
        translation.sources = {name: [key] for name, key in config.trl_keys.items()}
    return translation


def _unsloth_expand(built: BuiltModel) -> Expansion:
    experts = [n for n in ("num_experts", "n_routed_experts", "num_local_experts")
               if getattr(built.config, n, None)]
    if experts:
        raise AuditError(
            "script-not-understood",
            f"unsloth's get_peft_model adds the experts' target_parameters on a mixture-of-experts model "
            f"({experts[0]} = {getattr(built.config, experts[0])}), which lora-audit does not reproduce",
            "pass them with --target-parameters (e.g. mlp.experts.gate_up_proj,mlp.experts.down_proj)",
        )
    return Expansion(fields={})


# --------------------------------------------------------------------------- mmengine's lazy configs
def lazy_calls(calls: list[Call]) -> list[Call]:
    """``dict(type=F, **kwargs)`` as the call ``F(**kwargs)`` it stands for.

    The configs of xtuner (and of every mmengine project) write ``lora=dict(type=LoraConfig, r=64, ...)``
    and ``llm=dict(type=AutoModelForCausalLM.from_pretrained, pretrained_model_name_or_path=...)``;
    mmengine's ``BUILDER`` calls ``type`` with the other keys (xtuner @ b934f462, ``xtuner/registry.py``,
    ``xtuner/model/utils.py`` ``traverse_dict``). A dict nested in another is rewritten first (the reader
    records inner calls first), so ``quantization_config=dict(type=BitsAndBytesConfig, ...)`` is a
    ``BitsAndBytesConfig(...)`` call inside the ``from_pretrained`` call.
    """
    rewritten: dict[int, Call] = {}

    def value(item: Value) -> Value:
        inner = item.value
        if isinstance(inner, Call) and id(inner) in rewritten:
            return dataclasses.replace(item, value=rewritten[id(inner)])
        return item

    out: list[Call] = []
    for call in calls:
        kind = call.kwargs.get("type")
        if call.name == "dict" and call.receiver is None and not call.args and kind is not None \
                and isinstance(kind.value, Dotted) and kind.value.imported:
            lazy = dataclasses.replace(call, name=kind.value.name,
                                       kwargs={k: value(v) for k, v in call.kwargs.items() if k != "type"})
            rewritten[id(call)] = lazy
            out.append(lazy)
        else:
            out.append(dataclasses.replace(call, kwargs={k: value(v) for k, v in call.kwargs.items()},
                                           args=[value(v) for v in call.args]) if rewritten else call)
    return out


#: xtuner @ b934f462 ``xtuner/model/sft.py`` ``SupervisedFinetune._prepare_for_lora``: a LoraConfig without
#: target_modules gets ``find_all_linear_names(llm)`` (``xtuner/model/utils.py``), not PEFT's defaults.
XTUNER_FINETUNE = "xtuner.model.SupervisedFinetune"


def find_all_linear_names(model: Any) -> list[str]:
    """xtuner's ``find_all_linear_names``: every ``nn.Linear``'s last name, without ``lm_head`` / ``output_layer``."""
    from torch import nn

    names = set()
    for name, module in model.named_modules():
        if isinstance(module, nn.Linear):
            parts = name.split(".")
            names.add(parts[0] if len(parts) == 1 else parts[-1])
    names.discard("lm_head")
    names.discard("output_layer")
    return sorted(names)


def _xtuner_expand(built: BuiltModel) -> Expansion:
    found = find_all_linear_names(built.factory())
    return Expansion(fields={"target_modules": found},
                     steps=[f"xtuner: target_modules unset -> find_all_linear_names: {', '.join(found)}"],
                     sources={"target_modules": []})


# --------------------------------------------------------------------------- reading the calls
@dataclass
class _Model:
    """A model the script loads: ``from_pretrained`` of a transformers, unsloth or diffusers class."""

    call: Call
    id: str | None
    why: str | None  #: why the id is unknown
    cls: str  #: the class's last name
    library: str  #: transformers | unsloth | diffusers | trl
    component: str | None = None

    @property
    def shown(self) -> str:
        """How the report names the call: ``AutoModelForCausalLM.from_pretrained at line 5``."""
        if self.library == "trl":
            return f"{self.cls}(model={self.id!r}) at {self.call.place}"
        component = f", its {self.component}" if self.component else ""
        return f"{self.cls}.from_pretrained at {self.call.place}{component}"


class _Reader:
    def __init__(self, program: Program, evaluation: Evaluation) -> None:
        self.program = program
        self.evaluation = evaluation
        self.calls = lazy_calls(evaluation.calls)
        #: an xtuner config (it names xtuner's SupervisedFinetune): what its LoRA dicts are part of
        self.xtuner = {id(call): call for call in self.calls if (call.name or "").startswith("xtuner.model.")}

    def configs(self) -> list[ScriptConfig]:
        found: list[tuple[Call, ScriptConfig]] = []
        for call in self.calls:
            config = self.config_of(call)
            if config is not None:
                found.append((call, config))
        for call, config in found:
            if self.xtuner:
                self.xtuner_config(call, config)
            self.attach_model(call, config)
            self.attach_training(call, config)
            config.program = self.program
            if self.program.skipped:
                config.steps += self.program.skipped
            if self.evaluation.truncated:
                config.steps.append("the script makes too many calls to read them all: the rest were not read")
        return [config for _, config in found]

    def xtuner_config(self, call: Call, config: ScriptConfig) -> None:
        """In an xtuner config, a LoraConfig is the ``lora`` of a SupervisedFinetune, whose ``llm`` is the model."""
        owner = next((other for other in self.xtuner.values() if any(v.value is call for v in other.kwargs.values())),
                     None)
        where = f"{self.program.path}: {call.place}"
        if owner is None or owner.name != XTUNER_FINETUNE or owner.kwargs.get("lora") is None \
                or owner.kwargs["lora"].value is not call:
            kind = owner.name if owner is not None else "no xtuner model"
            config.refused = AuditError(
                "script-not-understood", f"{where}: xtuner builds this LoraConfig into {kind}, which lora-audit does "
                "not read (it reads SupervisedFinetune's lora)", "audit the LoRA with flags against the LLM")
            return
        config.model_value = owner.kwargs.get("llm")
        config.model_how = f"SupervisedFinetune's llm at {owner.place}"
        config.steps.append(f"xtuner: SupervisedFinetune(llm=..., lora=LoraConfig) at {owner.place}, built by "
                            "mmengine from dict(type=...)")
        if config.fields.get("target_modules") is None and config.refused is None:
            config.expand = _xtuner_expand

    # ------------------------------------------------------------- which calls build a config
    def config_of(self, call: Call) -> ScriptConfig | None:
        name = call.name or ""
        last = call.short
        if call.receiver is None and _is_peft(name) and last == "LoraConfig":
            return self.lora_config(call, "LoraConfig", {}, {})
        if last == "get_peft_config" and call.receiver is None and (name.startswith("trl") or "." not in name):
            return self.trl_model_config(call)
        if last == "from_pretrained" and call.owner is not None and _is_peft(call.owner) \
                and call.owner.rsplit(".", 1)[-1].startswith(("PeftModel", "AutoPeftModel")):
            return self.saved_adapter(call)
        if call.receiver is None and call.method is None and last == "get_peft_model" and call.owner \
                and call.owner.rsplit(".", 1)[-1] in _UNSLOTH_LOADERS:
            return self.unsloth_config(call)
        if call.method is not None and call.method == "get_peft_model" and _unsloth_model(call.receiver):
            return self.unsloth_config(call)
        if call.receiver is None and _is_peft(name) and _PEFT_CONFIG.match(last) and last not in (
                "PeftConfig", "PromptLearningConfig") and _is_peft_strict(name):
            method = methods.by_class_name(last)
            if method is None or method in methods.REFUSED:
                config = ScriptConfig(last, call.place, {}, [], {})
                config.refused = AuditError(
                    "not-a-lora-config" if method is None else "method-not-auditable",
                    f"{self.program.path}: {call.place}: {last}(...) is not a config class of the installed PEFT"
                    if method is None else f"{self.program.path}: {call.place}: {last}(...) cannot be audited on "
                    "its own", "check the class name against peft's" if method is None else methods.REFUSED[method],
                )
                return config
            # Another method's config class (LoHaConfig, IA3Config...): its keywords are that class's fields.
            config = self.lora_config(call, last, {}, {})
            config.method = method
            return config
        local = self.local_subclass(call)
        if local is not None:
            config = ScriptConfig(local.name, call.place, {}, [], {})
            config.refused = AuditError(
                "script-not-understood",
                f"{self.program.path}: {call.place}: {local.name}(...) is a subclass of LoraConfig defined in "
                f"the script ({local.place}): what it changes is known only when it runs",
                "build a plain peft.LoraConfig, or pass the config as a JSON/YAML file with --config",
            )
            return config
        return None

    def trl_model_config(self, call: Call) -> ScriptConfig:
        """TRL's ``get_peft_config(ModelConfig(...))``: the LoraConfig TRL builds, as the TRL front-end reads it."""
        what = "get_peft_config"
        config = ScriptConfig(what, call.place, {}, [], {}, arguments_are_fields=False)
        where = f"{self.program.path}: {call.place}"
        value = call.args[0] if call.args else call.kwargs.get("model_args")
        inner = value.value if value is not None else None
        if not (isinstance(inner, Call) and inner.short == "ModelConfig") or inner.unexpanded or inner.args:
            shown = _expression(value) if value is not None else "no argument"
            config.refused = AuditError(
                "script-unresolved",
                f"{where}: get_peft_config({shown}): its ModelConfig is known only when the script runs (TRL's "
                "scripts fill it from the command line or a --config YAML)",
                "audit the YAML the script is run with: lora-audit config.yaml (its use_peft, lora_r, "
                "lora_target_modules... keys)",
            )
            return config
        data: dict[str, Any] = {}
        for key, item in inner.kwargs.items():
            plain, unresolved = _plain(key, item)
            argument = Argument(key, inner.keyword_places.get(key, item.place))
            if unresolved is not None:
                config.refused = AuditError(
                    "script-unresolved",
                    f"{self.program.path}: {argument.place}: ModelConfig({key}={unresolved.expression}) is known "
                    f"only when the script runs ({unresolved.why})",
                    f"write {key} as a literal in the script, or audit the YAML the script is run with",
                )
                return config
            argument.value = data[key] = plain
            config.arguments.append(argument)
            if isinstance(plain, list) and item.items and len(item.items) == len(plain):
                config.entry_lines[key] = {str(v): p.line for v, p in zip(plain, item.items, strict=False)
                                           if isinstance(v, str) and p.line is not None}
        translation = trl_frontend.translate(LoadedFile(self.program.path, data, ""))
        config.call, config.place = "ModelConfig", inner.place  # get_peft_config builds it from this call
        config.fields = dict(translation.fields)
        config.steps += translation.steps
        config.quantization = translation.quantization
        config.expand = translation.expand
        config.trl_keys = {name: keys[0] for name, keys in translation.sources.items()}
        if translation.model is not None:
            config.model, config.model_place = translation.model, inner.place
        return config

    def saved_adapter(self, call: Call) -> ScriptConfig:
        """``PeftModel.from_pretrained(model, path, is_trainable=...)``: the saved adapter is the config."""
        owner = call.owner.rsplit(".", 1)[-1] if call.owner else "PeftModel"
        what = f"{owner}.from_pretrained"
        auto = owner.startswith("AutoPeftModel")
        config = ScriptConfig(what, call.place, {}, [], {}, arguments_are_fields=False)
        where = f"{self.program.path}: {call.place}"
        path_value = call.kwargs.get("model_id") or call.kwargs.get("pretrained_model_name_or_path") or (
            call.args[0] if auto and call.args else call.args[1] if len(call.args) > 1 else None)
        if path_value is None or not isinstance(path_value.value, str):
            shown = _expression(path_value) if path_value is not None else "no path"
            config.refused = AuditError(
                "script-unresolved",
                f"{where}: {what} loads the adapter at {shown}, which is known only when the script runs",
                "audit that adapter itself: lora-audit adapter PATH (or lora-audit MODEL --adapter PATH)",
            )
            return config
        folder = next((p for p in (self.program.path.parent / path_value.value, Path(path_value.value))
                       if (p / ADAPTER_CONFIG_NAME).is_file()), None)
        if folder is None:
            config.refused = AuditError(
                "script-not-understood",
                f"{where}: {what} loads the saved adapter {path_value.value!r}, which is not a local adapter "
                "directory here",
                f"audit the adapter itself: lora-audit adapter {path_value.value} (it reads adapter_config.json "
                "and the safetensors header only)",
            )
            return config
        saved = peft_frontend.translate(load_config_file(folder))
        config.fields = dict(saved.fields)
        config.arguments.append(Argument("model_id", path_value.place, value=path_value.value))
        config.saved_adapter = str(folder / ADAPTER_CONFIG_NAME)
        config.unknown_fields = list(saved.unknown_fields)
        config.steps += [f"{what} loads the saved adapter {folder}: its adapter_config.json is the config",
                         *saved.steps]
        trainable = call.kwargs.get("is_trainable")
        if trainable is None or trainable.value is not True:
            config.steps.append("is_trainable is not True: the script loads the adapter frozen, for inference; "
                                "audited as training loads it (is_trainable=True)")
        if auto:
            config.model, config.model_place = saved.model, call.place
            config.model_value = None
        return config

    def local_subclass(self, call: Call) -> LocalDefinition | None:
        if call.name is None or call.receiver is not None:
            return None
        for definition in self.evaluation.definitions:
            if definition.kind == "class" and definition.name == call.name.rsplit(".", 1)[-1] and any(
                    isinstance(b, Dotted) and b.name.rsplit(".", 1)[-1] == "LoraConfig" for b in definition.bases):
                return definition
        return None

    def lora_config(self, call: Call, what: str, defaults: dict[str, Any], drop: dict[str, str]) -> ScriptConfig:
        config = ScriptConfig(what, call.place, {}, [], {})
        where = f"{self.program.path}: {call.place}"
        if call.loop is not None:
            config.refused = AuditError(
                "script-not-understood",
                f"{where}: {what}(...) is built inside the loop at {call.loop}: its arguments change on every pass",
                "audit each variant on its own (one config per script, or flags: -r, --targets...)",
            )
            return config
        if call.args and what.endswith("Config"):
            config.refused = AuditError(
                "script-not-understood",
                f"{where}: {what} takes positional arguments here ({call.text}); PEFT's fields are keywords",
                f"write {what}(r=..., target_modules=...) with keywords",
            )
            return config
        if call.unexpanded:
            for item in call.unexpanded:
                config.unresolved["**"] = Argument("**", item.place, item.expression, item.why)
        if call.condition is not None:
            config.steps.append(f"{what} at {call.place} is built under {call.condition}")
        lines: dict[str, dict[str, int]] = {}
        for key, value in {**{k: Value(v, call.place) for k, v in defaults.items()}, **call.kwargs}.items():
            origin = "default" if key not in call.kwargs else "script"
            if key in drop:
                config.steps.append(drop[key])
                continue
            plain, unresolved = _plain(key, value)
            argument = Argument(key, call.keyword_places.get(key, value.place), origin=origin)
            if unresolved is not None:
                argument.expression, argument.why = unresolved.expression, unresolved.why
                config.unresolved[key] = argument
            else:
                argument.value = plain
                config.fields[key] = plain
                if isinstance(plain, list) and value.items and len(value.items) == len(plain):
                    lines[key] = {str(v): p.line for v, p in zip(plain, value.items, strict=False)
                                  if isinstance(v, str) and p.line is not None}
                elif isinstance(plain, dict) and value.keys:
                    lines[key] = {k: p.line for k, p in value.keys.items() if p.line is not None}
            config.arguments.append(argument)
        config.entry_lines = lines
        if "task_type" in config.fields:
            config.fields["task_type"] = _task_type(config.fields["task_type"])
        return config

    def unsloth_config(self, call: Call) -> ScriptConfig:
        kwargs = dict(call.kwargs)
        if call.args and "model" not in kwargs:
            kwargs["model"] = call.args[0]
        known = {k: v for k, v in kwargs.items() if k not in _UNSLOTH_OWN}
        own = [k for k in kwargs if k in _UNSLOTH_OWN and k != "model"]
        shadow = dataclasses.replace(call, args=[], kwargs=known)
        defaults = {k: v for k, v in UNSLOTH_DEFAULTS.items() if k not in known}
        config = self.lora_config(shadow, "FastLanguageModel.get_peft_model", defaults, {})
        config.unsloth = True
        if own:
            config.steps.append(f"unsloth's own settings, not LoraConfig fields: {', '.join(own)}")
        if config.refused is not None:
            return config
        targets = config.fields.get("target_modules")
        if isinstance(targets, (list, tuple)) and "embed_tokens" in targets:
            config.fields["target_modules"] = [t for t in targets if t != "embed_tokens"]
            config.fields["modules_to_save"] = [*(config.fields.get("modules_to_save") or []), "embed_tokens"]
            config.steps.append("unsloth: embed_tokens moved from target_modules to modules_to_save")
        saved = config.fields.get("modules_to_save")
        if isinstance(saved, (list, tuple)):
            bad = [m for m in saved if m not in ("lm_head", "embed_tokens")]
            if bad:
                config.refused = AuditError(
                    "invalid-lora-value",
                    f"{self.program.path}: {call.place}: unsloth refuses modules_to_save {bad[0]!r} (\"Only "
                    "'lm_head' and 'embed_tokens' is allowed\")",
                    "keep lm_head / embed_tokens only in modules_to_save",
                )
                return config
            config.fields["modules_to_save"] = sorted(set(saved))
        config.fields["task_type"] = "CAUSAL_LM"
        defaulted = [f"{k} {UNSLOTH_DEFAULTS[k]!r}" for k in UNSLOTH_DEFAULTS
                     if k not in known and UNSLOTH_DEFAULTS[k] is not None]
        if defaulted:
            config.steps.append("unsloth defaults: " + ", ".join(defaulted))
        model = kwargs.get("model")
        if model is not None:
            config.model_value = model
        return config

    # ------------------------------------------------------------- which model it goes with
    def attach_model(self, call: Call, config: ScriptConfig) -> None:
        if config.refused is not None or (config.saved_adapter is not None and config.model is not None):
            return
        if config.trl_keys and config.model is not None:
            config.steps.insert(0, f"model: ModelConfig(model_name_or_path=...) at {config.model_place}")
            return
        if config.saved_adapter is not None and config.model_value is None:
            config.model_value = call.kwargs.get("model") or (call.args[0] if call.args else None)
        chosen: _Model | None = None
        how = ""
        target = config.model_value
        if target is not None:
            chosen = self.model_of(target)
            how = config.model_how or f"the model passed to {config.call}"
        for use in self.uses_of(call):
            model = self.model_of_use(use)
            if model is not None:
                chosen, how = model, f"the model passed to {use.short} at {use.place}"
                break
        if chosen is None:
            before = [m for m in (self.loaded_model(c) for c in self.calls if _before(c.place, call.place)) if m]
            if before:
                chosen, how = before[-1], "the model loaded nearest before it"
                models = {m.id for m in before}
                if len(models) > 1:
                    how += f" (the script loads {len(models)} models; pass MODEL to choose)"
        if chosen is None:
            after = [m for m in (self.loaded_model(c) for c in self.calls) if m]
            if after:
                chosen, how = after[0], "the only model the script loads" if len(after) == 1 else \
                    "the first model the script loads (pass MODEL to choose)"
        if chosen is None:
            config.model_unresolved = "the script loads no model with from_pretrained"
            return
        config.model = chosen.id
        config.model_place = chosen.call.place
        config.model_unresolved = chosen.why
        config.component = chosen.component
        config.steps.insert(0, f"model: {chosen.shown} ({how})")
        self.model_settings(chosen, config)

    def uses_of(self, call: Call) -> list[Call]:
        """Calls that take this config: get_peft_model(model, config), model.add_adapter(config), a trainer."""
        uses = []
        for other in self.calls:
            values = [*other.args, *other.kwargs.values()]
            if not any(_is(v, call) for v in values):
                continue
            if other.short in ("get_peft_model", "add_adapter", "inject_adapter_in_model") \
                    or _TRAINER.match(other.short):
                uses.append(other)
        return uses

    def model_of_use(self, use: Call) -> _Model | None:
        if use.short == "add_adapter" and use.receiver is not None:
            return self.model_of(use.receiver)
        if use.short in ("get_peft_model", "inject_adapter_in_model"):
            value = use.kwargs.get("model") or (use.args[0] if use.args else None)
            if use.short == "inject_adapter_in_model":
                value = use.kwargs.get("model") or (use.args[1] if len(use.args) > 1 else None)
            return self.model_of(value) if value is not None else None
        value = use.kwargs.get("model") or (use.args[0] if use.args else None)
        if value is None:
            return None
        if isinstance(value.value, str):  # SFTTrainer(model="Qwen/...")
            return _Model(use, value.value, None, use.short, "trl")
        return self.model_of(value)

    def model_of(self, value: Value | None, depth: int = 0) -> _Model | None:
        """The model a value is, following assignments, unpacking, and calls that return their argument."""
        if value is None or depth > 20:
            return None
        inner = value.value
        if isinstance(inner, Unresolved) and inner.maybe is not None:
            return self.model_of(inner.maybe, depth + 1)
        if isinstance(inner, Item):
            return self.model_of(inner.of, depth + 1) if inner.index == 0 else None
        if isinstance(inner, Attribute):
            base = self.model_of(inner.of, depth + 1)
            if base is not None and inner.name in _DIFFUSERS_COMPONENTS:
                return dataclasses.replace(base, component=inner.name)
            return base
        if isinstance(inner, Call):
            loaded = self.loaded_model(inner)
            if loaded is not None:
                return loaded
            # prepare_model_for_kbit_training(model), get_peft_model(model, ...): the same model
            if inner.args:
                return self.model_of(inner.args[0], depth + 1)
            if "model" in inner.kwargs:
                return self.model_of(inner.kwargs["model"], depth + 1)
        return None

    def loaded_model(self, call: Call) -> _Model | None:
        if call.short != "from_pretrained" or call.owner is None:
            return None
        owner = call.owner.rsplit(".", 1)[-1]
        library = call.owner.split(".", 1)[0]
        if owner in _UNSLOTH_LOADERS:
            kind = "unsloth"
        elif owner.endswith("Pipeline") or library == "diffusers" or owner.endswith(("2DModel", "Transformer2DModel")):
            kind = "diffusers"
        elif _MODEL_CLASS.match(owner) and owner not in ("PeftModel", "AutoPeftModel") \
                and not owner.startswith(("AutoTokenizer", "AutoPeft", "PeftModel", "AutoProcessor")):
            kind = "transformers"
        else:
            return None
        key = "model_name" if kind == "unsloth" else "pretrained_model_name_or_path"
        value = call.kwargs.get(key) or (call.args[0] if call.args else None)
        if value is None:
            return _Model(call, None, "from_pretrained is given no model id", owner, kind)
        if isinstance(value.value, str):
            component = None
            sub = call.kwargs.get("subfolder")
            if kind == "diffusers" and sub is not None and isinstance(sub.value, str):
                component = sub.value
            return _Model(call, value.value, None, owner, kind, component)
        why = value.value.why if isinstance(value.value, Unresolved) else "known only when the script runs"
        return _Model(call, None, f"{_expression(value)}: {why}", owner, kind)

    def model_settings(self, model: _Model, config: ScriptConfig) -> None:
        call = model.call
        where = f"{self.program.path}: {call.place}"
        if model.library == "transformers":
            config.model_class = model.cls  # an Auto class picks the head, a concrete class is itself
            labels = call.kwargs.get("num_labels")
            if labels is not None:
                if isinstance(labels.value, int) and not isinstance(labels.value, bool):
                    config.config_overrides["num_labels"] = labels.value
                    config.steps.append(f"num_labels={labels.value} (from_pretrained at {call.place})")
                else:
                    config.refused = AuditError(
                        "script-unresolved",
                        f"{where}: num_labels={_expression(labels)} is known only when the script runs, and it "
                        "sets the size of the head",
                        "write num_labels as a number in the script",
                    )
        if model.library == "unsloth":
            config.unsloth = True
            four = call.kwargs.get("load_in_4bit", Value(True, call.place))  # unsloth's default: True
            eight = call.kwargs.get("load_in_8bit", Value(False, call.place))
            if four.value is True:
                how = "load_in_4bit" if "load_in_4bit" in call.kwargs else "load_in_4bit (unsloth's default: True)"
                config.quantization = {"method": "bitsandbytes", "bits": 4, "source": f"{where}: {how}"}
            elif eight.value is True:
                config.quantization = {"method": "bitsandbytes", "bits": 8, "source": f"{where}: load_in_8bit"}
            elif not (four.known and eight.known):
                config.steps.append(f"load_in_4bit / load_in_8bit at {call.place} are known only when the script "
                                    "runs: audited without quantization")
        else:
            self.quantization(call, config, where)
        for key in ("trust_remote_code",):
            if key in call.kwargs and call.kwargs[key].value is True:
                config.steps.append(f"trust_remote_code=True at {call.place}: recorded, not acted on (pass "
                                    "--trust-remote-code to run the repository's code)")
        for resize in self.calls:
            if resize.short == "resize_token_embeddings":
                size = resize.args[0].value if resize.args else None
                config.steps.append(f"resize_token_embeddings({size if isinstance(size, int) else '...'}) at "
                                    f"{resize.place}: the audit uses the checkpoint's vocabulary")

    def quantization(self, call: Call, config: ScriptConfig, where: str) -> None:
        for key, bits in (("load_in_4bit", 4), ("load_in_8bit", 8)):
            value = call.kwargs.get(key)
            if value is not None and value.value is True:
                config.quantization = {"method": "bitsandbytes", "bits": bits, "source": f"{where}: {key}"}
        block = call.kwargs.get("quantization_config")
        if block is None:
            return
        inner = block.value
        if isinstance(inner, Unresolved) and inner.maybe is not None:
            config.steps.append(f"quantization_config at {call.place} is {inner.why}")
            inner = inner.maybe.value
        if isinstance(inner, Call) and inner.short == "BitsAndBytesConfig":
            settings: dict[str, Any] = {}
            for key, item in inner.kwargs.items():
                setting = item.value
                if isinstance(setting, Dotted):  # torch.bfloat16
                    setting = setting.name.rsplit(".", 1)[-1]
                if isinstance(setting, (str, int, float, bool)):
                    settings[key] = setting
            for key, bits in (("load_in_4bit", 4), ("load_in_8bit", 8)):
                value = inner.kwargs.get(key)
                if value is not None and value.value is True:
                    config.quantization = {"method": "bitsandbytes", "bits": bits, "settings": settings,
                                           "source": f"{where}: quantization_config=BitsAndBytesConfig({key}=True) "
                                                     f"({inner.place})"}
                    return
            config.steps.append(f"BitsAndBytesConfig at {inner.place} asks for neither 4 nor 8 bits as read")
            return
        if isinstance(inner, Call) and inner.short.endswith("Config"):
            method = inner.short.removesuffix("Config").lower()
            config.quantization = {"method": method, "bits": _int(inner.kwargs.get("bits")),
                                   "source": f"{where}: quantization_config={inner.short}(...) ({inner.place})"}
            return
        config.refused = AuditError(
            "script-unresolved",
            f"{where}: quantization_config={_expression(block)} is known only when the script runs",
            "write quantization_config=BitsAndBytesConfig(load_in_4bit=True, ...) in the script, or audit with a "
            "config file that says how the base is quantized",
        )

    # ------------------------------------------------------------- the training step
    def attach_training(self, call: Call, config: ScriptConfig) -> None:
        if config.refused is not None:
            return
        arguments: Call | None = None
        for use in self.uses_of(call):
            args = use.kwargs.get("args")
            if args is not None and isinstance(args.value, Call):
                arguments = args.value
        if arguments is None:
            candidates = [c for c in self.calls if c.name and c.short in ("TrainingArguments", "SFTConfig",
                                                                          "Seq2SeqTrainingArguments")]
            if len(candidates) == 1:
                arguments = candidates[0]
        file = str(self.program.path)
        settings: dict[str, Any] = {}
        if arguments is not None:
            def setting(key: str) -> TrainingSetting | None:
                value = arguments.kwargs.get(key)
                if value is None or not value.known:
                    return None
                return TrainingSetting(value.value, f"{arguments.short}({key}=...)", file, value.place.line)

            for name, keys in (("batch_size", ("per_device_train_batch_size",)),
                               ("seq_len", ("max_length", "max_seq_length")),
                               ("gradient_checkpointing", ("gradient_checkpointing",)),
                               ("optimizer", ("optim",))):
                for key in keys:
                    found = setting(key)
                    if found is not None:
                        settings[name] = found
                        break
            for key, precision in (("bf16", "bf16"), ("fp16", "fp16")):
                found = setting(key)
                if found is not None and found.value is True:
                    settings["precision"] = TrainingSetting(precision, found.key, file, found.line)
        if config.unsloth and "seq_len" not in settings:
            for other in self.calls:
                model = self.loaded_model(other)
                if model is not None and model.library == "unsloth":
                    value = other.kwargs.get("max_seq_length")
                    if value is not None and value.known:
                        settings["seq_len"] = TrainingSetting(value.value, "from_pretrained(max_seq_length=...)",
                                                              file, value.place.line)
        if settings:
            config.training = TrainingSettings(**settings)


def _is_peft(name: str) -> bool:
    """A name from PEFT, or a bare one nobody imported (a notebook that imported with ``*``)."""
    return name.startswith("peft.") or "." not in name


def _is_peft_strict(name: str) -> bool:
    return name.startswith("peft.")


def _unsloth_model(value: Value | None) -> bool:
    return isinstance(value, Value) and isinstance(value.value, Dotted) and \
        value.value.name.rsplit(".", 1)[-1] in _UNSLOTH_LOADERS


def _is(value: Value, call: Call, depth: int = 0) -> bool:
    """Whether ``value`` is the result of ``call`` (through an assignment under a condition)."""
    inner = value.value
    if inner is call:
        return True
    if isinstance(inner, Unresolved) and inner.maybe is not None and depth < 10:
        return _is(inner.maybe, call, depth + 1)
    return False


def _before(a: Place, b: Place) -> bool:
    return a.line is not None and b.line is not None and a.line < b.line


def _plain(key: str, value: Value) -> tuple[Any, Unresolved | None]:
    """A LoraConfig argument as plain data, or why it cannot be read."""
    inner = value.value
    if isinstance(inner, Dotted):
        last = inner.name.rsplit(".", 1)
        if len(last) == 2 and last[0].rsplit(".", 1)[-1] == "TaskType":
            return last[1], None
        if not inner.imported:
            return None, Unresolved(inner.name, value.place, "a name not bound before this line")
        return None, Unresolved(inner.name, value.place, "an imported name whose value is known only when it runs")
    if isinstance(inner, Unresolved):
        return None, inner
    if isinstance(inner, Call):
        return None, Unresolved(inner.text, value.place, f"the result of {inner.short}(), known only when it runs")
    if isinstance(inner, (Attribute, Item)):
        root: Any = inner
        while isinstance(root, (Attribute, Item)):
            root = root.of.value
        origin = f"the result of {root.short}()" if isinstance(root, Call) else "a value"
        return None, Unresolved(_expression(value), value.place, f"an attribute of {origin}, known only when it runs")
    if isinstance(inner, LocalDefinition):
        return None, Unresolved(inner.name, value.place, f"the {inner.kind} defined at {inner.place}")
    if isinstance(inner, (set, frozenset)):
        inner = sorted(inner, key=repr)
    if isinstance(inner, tuple):
        inner = list(inner)
    if not value.known:
        return None, Unresolved(key, value.place, "a value holding parts known only when the script runs")
    return inner, None


def _task_type(value: Any) -> Any:
    return value.upper() if isinstance(value, str) else value


def _int(value: Value | None) -> int | None:
    return value.value if value is not None and isinstance(value.value, int) else None


def _expression(value: Value, depth: int = 0) -> str:
    inner = value.value
    if depth > 20:
        return "..."
    if isinstance(inner, Attribute):
        return inner.written or f"{_expression(inner.of, depth + 1)}.{inner.name}"
    if isinstance(inner, Item):
        return f"{_expression(inner.of, depth + 1)}[{inner.index}]"
    if isinstance(inner, Unresolved):
        return inner.expression
    if isinstance(inner, Call):
        return inner.text
    if isinstance(inner, Dotted):
        return inner.name
    return repr(inner)[:80]
