"""Oumi's training YAML (``oumi train -c recipe.yaml``), read as Oumi reads it.

Reproduces Oumi at oumi-ai/oumi d8ed07778d7931565798ad45a859cafb54d4fc58:

- ``src/oumi/core/configs/params/peft_params.py`` ``PeftParams``: the ``peft:`` section's fields and
  their defaults (``lora_r: 8``, ``lora_alpha: 8``, ``lora_dropout: 0``, ``lora_target_modules: None``,
  ``lora_bias: none``, ``lora_task_type: CAUSAL_LM``, ``lora_init_weights: default``, ``q_lora: false``,
  ``q_lora_bits: 4``), and ``to_lora()``: ``LoraConfig(r=lora_r, lora_alpha, lora_dropout,
  target_modules, exclude_modules, target_parameters=lora_target_parameters,
  modules_to_save=lora_modules_to_save, bias=lora_bias, task_type=lora_task_type, init_lora_weights)``
  where ``target_modules: ["all-linear"]`` becomes the string ``"all-linear"``, the
  ``lora_exclude_modules`` regexes are joined into one (``"(a)|(b)"``), and ``lora_init_weights``
  ``random`` is ``False``, ``default`` is ``True``, anything else its value.
- ``src/oumi/train.py``: PEFT is applied only when ``training.use_peft`` is true and a ``peft:``
  section exists; ``src/oumi/builders/models.py``: ``q_lora`` loads the base with
  ``to_bits_and_bytes()`` (``q_lora_bits`` 4 or 8) and ``build_peft_model`` calls
  ``get_peft_model(model, peft.to_lora())``.
- Oumi loads the YAML into these dataclasses with OmegaConf's structured configs, which refuse a key
  the dataclass does not have: so does this reader, in ``peft:``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import yaml

from lora_audit.config.frontends._base import Expansion, Translation
from lora_audit.config.training import from_keys
from lora_audit.errors import AuditError
from lora_audit.naming import did_you_mean

if TYPE_CHECKING:
    from lora_audit.config.loading import LoadedFile

NAME = "oumi"

#: PeftParams' fields and defaults (peft_params.py at d8ed0777).
DEFAULTS: dict[str, Any] = {
    "lora_r": 8, "lora_alpha": 8, "lora_dropout": 0.0, "lora_target_modules": None, "lora_exclude_modules": None,
    "lora_target_parameters": None, "lora_modules_to_save": None, "lora_bias": "none", "lora_init_weights": "default",
    "lora_task_type": "CAUSAL_LM", "q_lora": False, "q_lora_bits": 4, "bnb_4bit_quant_type": "fp4",
    "llm_int8_skip_modules": None, "use_bnb_nested_quant": False, "bnb_4bit_quant_storage": "uint8",
    "bnb_4bit_compute_dtype": "float32", "peft_save_mode": "adapter_only",
}

#: How Oumi spells each LoraConfig field (keys of the ``peft:`` section).
FIELD_KEYS = {
    "r": "lora_r", "lora_alpha": "lora_alpha", "lora_dropout": "lora_dropout", "target_modules": "lora_target_modules",
    "exclude_modules": "lora_exclude_modules", "target_parameters": "lora_target_parameters",
    "modules_to_save": "lora_modules_to_save", "bias": "lora_bias", "task_type": "lora_task_type",
    "init_lora_weights": "lora_init_weights",
}
#: The section whose keys findings point at (the registry indexes its lines).
SECTION = "peft"

#: The training step, from the ``training:`` section (TrainingParams); Oumi's precision comes from the model's
#: dtype and its mixed-precision setting, which lora-audit does not read: --memory asks for --precision.
TRAINING_SECTION_KEYS: dict[str, tuple[str, ...]] = {"batch_size": ("per_device_train_batch_size",),
                         "gradient_checkpointing": ("enable_gradient_checkpointing",), "optimizer": ("optimizer",)}
TRAINING_UNREAD: tuple[str, ...] = ("precision",)


def detect(data: dict[str, Any]) -> int:
    model = data.get("model")
    if isinstance(model, dict) and "model_name" in model and any(
            isinstance(data.get(k), dict) for k in ("training", "peft")):
        return 30
    return 0


def translate(loaded: LoadedFile) -> Translation:
    data = loaded.data
    where = str(loaded.path)
    section_of_training = data.get("training")
    training: dict[str, Any] = section_of_training if isinstance(section_of_training, dict) else {}
    section = data.get("peft")
    if training.get("use_peft") is not True or not isinstance(section, dict):
        said = "training.use_peft is not true" if training.get("use_peft") is not True else "there is no peft: section"
        raise AuditError(
            "not-a-lora-config",
            f"{where}: {said}, so Oumi trains the full model and builds no LoraConfig",
            "set training.use_peft: true and give a peft: section (lora_r, lora_alpha, lora_target_modules...)",
        )
    unknown = [k for k in section if k not in DEFAULTS]
    if unknown:
        close = did_you_mean(str(unknown[0]), sorted(DEFAULTS))
        raise AuditError(
            "invalid-lora-config",
            f"{where}: peft.{unknown[0]} is not a field of Oumi's PeftParams (Oumi's config loader refuses it)",
            f"did you mean peft.{close[0]}?" if close else "use PeftParams' fields: lora_r, lora_alpha, "
                                                            "lora_target_modules, ...",
        )
    args = {**DEFAULTS, **section}
    steps: list[str] = []
    defaults = [f"{k} {DEFAULTS[k]}" for k in ("lora_r", "lora_alpha", "lora_dropout") if k not in section]
    if defaults:
        steps.append("Oumi defaults: " + ", ".join(defaults))
    targets = args["lora_target_modules"]
    if targets == ["all-linear"]:
        targets = "all-linear"
        steps.append('lora_target_modules ["all-linear"] -> "all-linear" (PeftParams.to_lora)')
    elif targets is None and not args["lora_target_parameters"]:
        steps.append("lora_target_modules unset -> PEFT's defaults for the model type")
    exclude = args["lora_exclude_modules"]
    if exclude:
        exclude = "|".join(f"({m})" for m in exclude)
        steps.append(f"lora_exclude_modules -> one regex: {exclude}")
    init = str(getattr(args["lora_init_weights"], "value", args["lora_init_weights"])).lower()
    fields: dict[str, Any] = {
        "r": args["lora_r"],
        "lora_alpha": args["lora_alpha"],
        "lora_dropout": args["lora_dropout"],
        "target_modules": targets,
        "exclude_modules": exclude or None,
        "target_parameters": args["lora_target_parameters"],
        "modules_to_save": args["lora_modules_to_save"],
        "bias": args["lora_bias"],
        "init_lora_weights": False if init == "random" else True if init == "default" else init,
    }
    quantization = None
    if args["q_lora"]:
        quantization = {"method": "bitsandbytes", "bits": args["q_lora_bits"], "source": f"{where}: peft.q_lora"
                        + (f", q_lora_bits: {args['q_lora_bits']}" if "q_lora_bits" in section else "")}
    model_section = data["model"]
    model = model_section.get("model_name")
    model = model.strip() if isinstance(model, str) and model.strip() else None
    task = str(args["lora_task_type"]).upper()
    settings = from_keys(training, TRAINING_SECTION_KEYS, where, _section_lines(loaded.text, "training"),
                         TRAINING_UNREAD, NAME)
    return Translation(
        format=NAME,
        fields=fields,
        model=model,
        model_key="model.model_name" if model else None,
        steps=steps,
        quantization=quantization,
        # The task type goes to LoraConfig after the build, so that it does not choose the model class.
        expand=lambda built: Expansion(fields={"task_type": task}),
        sources={name: [key] for name, key in FIELD_KEYS.items() if key in section},
        all_linear_key="lora_target_modules" if targets == "all-linear" else None,
        training=settings,
    )


def _section_lines(text: str, section: str) -> dict[str, int]:
    """1-based lines of the keys of one top-level section (``training:``), for the memory inputs' sources."""
    try:
        root = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (yaml.YAMLError, RecursionError, ValueError):
        return {}
    if not isinstance(root, yaml.MappingNode):
        return {}
    for key, value in root.value:
        if isinstance(key, yaml.ScalarNode) and key.value == section and isinstance(value, yaml.MappingNode):
            return {k.value: k.start_mark.line + 1 for k, _ in value.value if isinstance(k, yaml.ScalarNode)}
    return {}
