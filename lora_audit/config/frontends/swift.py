"""ms-swift's command line (``swift sft ...`` in a shell script), read as ms-swift reads it.

Reproduces ms-swift at modelscope/ms-swift 3602360a562313afbf2ef6065fdf61f271a2c5b9:

- ``swift/arguments/tuner_args.py`` ``TunerArguments``: the defaults (``lora_rank 8``, ``lora_alpha 32``,
  ``lora_dropout 0.05``, ``lora_bias none``, ``target_modules ['all-linear']``, ``modules_to_save []``,
  ``init_weights 'true'``); ``base_args.py``: ``tuner_type lora`` (``train_type`` before ms-swift 4);
  ``quant_args.py``: ``quant_method`` / ``quant_bits``.
- ``swift/pipelines/train/tuner.py`` ``prepare_adapter``: with the PEFT backend,
  ``LoraConfig(task_type, r=lora_rank, target_modules, lora_alpha, lora_dropout, bias=lora_bias,
  modules_to_save, use_rslora, use_dora, init_lora_weights=init_weights)``, plus ``target_parameters``.
  ``get_target_modules``: a ``target_regex`` wins; ``all-linear`` becomes ``find_all_linears(model)``.
- ``swift/utils/transformers_utils.py`` ``find_all_linears`` / ``find_layers``: every module whose class name
  contains ``linear`` and whose name contains none of ``lm_head``, ``score``, ``v_head``, ``classifier``,
  ``lora_A``, ``lora_B``, ``base_layer``, named by its last component (longer where an inner module's
  name ends the same way). ms-swift takes the output layer's name from its own model registry
  (``model_arch.lm_head``); this reader needs it to be ``lm_head`` and refuses otherwise, and refuses
  ``all-linear`` on a multimodal model (ms-swift builds a regex from its registry's towers there).

The shell script's command line is split by ``lora_audit.config.static.shell`` (never run). Values a shell
expands (``$MODEL``) are known only when the script runs: they are refused, never guessed.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from lora_audit.config.frontends._base import Expansion, Translation
from lora_audit.config.static.shell import COMMAND_KEY
from lora_audit.config.training import from_keys
from lora_audit.errors import AuditError

if TYPE_CHECKING:
    from lora_audit.model.build import BuiltModel

NAME = "swift"

DEFAULTS: dict[str, Any] = {
    "tuner_type": "lora", "lora_rank": 8, "lora_alpha": 32, "lora_dropout": 0.05, "lora_bias": "none",
    "target_modules": ["all-linear"], "target_regex": None, "target_parameters": None, "modules_to_save": [],
    "use_rslora": False, "use_dora": False, "init_weights": "true", "task_type": None, "quant_method": None,
    "quant_bits": None,
}
#: Switches that change what the adapter is, which this reader does not reproduce.
_UNSUPPORTED = {"use_swift_lora": "ms-swift's own LoRA implementation", "tuner_backend": "a tuner backend",
                "freeze_parameters_ratio": "partial freezing", "trainable_parameters": "extra trainable parameters",
                "trainable_parameters_regex": "extra trainable parameters"}

FIELD_KEYS = {"r": "lora_rank", "lora_alpha": "lora_alpha", "lora_dropout": "lora_dropout",
              "target_modules": "target_modules", "modules_to_save": "modules_to_save", "bias": "lora_bias",
              "use_rslora": "use_rslora", "use_dora": "use_dora", "target_parameters": "target_parameters"}
TRAINING_KEYS: dict[str, tuple[str, ...]] = {"batch_size": ("per_device_train_batch_size",), "seq_len": ("max_length",),
                 "gradient_checkpointing": ("gradient_checkpointing",), "optimizer": ("optim",)}
#: --memory's inputs and the swift argument of each: one the command does not give is asked for as a flag
#: (ms-swift's own defaults are not the HF Trainer's); its precision (--torch_dtype and mixed precision) is not read.
_MEMORY_ARGS = (("batch", "per_device_train_batch_size"), ("gradient_checkpointing", "gradient_checkpointing"),
                ("optimizer", "optim"))

def detect(data: dict[str, Any]) -> int:
    return 40 if str(data.get(COMMAND_KEY, "")).startswith("swift ") else 0


def translate(loaded: Any) -> Translation:
    data = loaded.data
    where = str(loaded.path)
    args = {**DEFAULTS, **{k: v for k, v in data.items() if k != COMMAND_KEY}}
    tuner = args.get("train_type") or args["tuner_type"]
    if tuner != "lora":
        raise AuditError("not-a-lora-config", f"{where}: swift --tuner_type {tuner}: lora-audit reads ms-swift's "
                         "LoRA (tuner_type lora) only", "audit the same method with --method and --set")
    for key, what in _UNSUPPORTED.items():
        if key in data and data[key] not in (False, "peft", 0, 0.0, []):
            raise AuditError("not-a-lora-config", f"{where}: swift --{key}: {what}, which lora-audit does not "
                             "reproduce", f"remove --{key}, or audit the LoRA part with flags")
    steps = [f"{data[COMMAND_KEY]}: LoraConfig from --lora_rank, --lora_alpha, --target_modules..."]
    defaults = [f"{k} {DEFAULTS[k]}" for k in ("lora_rank", "lora_alpha", "lora_dropout") if k not in data]
    if defaults:
        steps.append("ms-swift defaults: " + ", ".join(defaults))
    fields: dict[str, Any] = {
        "r": args["lora_rank"], "lora_alpha": args["lora_alpha"], "lora_dropout": args["lora_dropout"],
        "bias": args["lora_bias"], "modules_to_save": list(args["modules_to_save"]) or None,
        "use_rslora": args["use_rslora"], "use_dora": args["use_dora"],
        "init_lora_weights": {"true": True, "false": False}.get(str(args["init_weights"]).lower(),
                                                                 args["init_weights"]),
    }
    if args["target_parameters"] is not None:
        fields["target_parameters"] = args["target_parameters"]
    targets: Any = args["target_regex"] or list(args["target_modules"])
    all_linear = isinstance(targets, list) and "all-linear" in targets
    if not all_linear:
        fields["target_modules"] = targets
    quantization = None
    if args["quant_bits"] is not None or args["quant_method"] is not None:
        method = args["quant_method"] or "bnb"
        if method != "bnb":
            raise AuditError("not-a-lora-config", f"{where}: swift --quant_method {method}: lora-audit models "
                             "bitsandbytes only", "audit without quantization, or with --quant_method bnb")
        quantization = {"method": "bitsandbytes", "bits": args["quant_bits"], "source": f"{where}: --quant_bits"}
    model = data.get("model") if isinstance(data.get("model"), str) else None
    task = str(args["task_type"]).upper() if args["task_type"] else None
    return Translation(
        format=NAME,
        fields=fields,
        model=model,
        model_key="--model" if model else None,
        steps=steps,
        quantization=quantization,
        expand=lambda built: _expand(built, targets if all_linear else None, task),
        sources={name: [key] for name, key in FIELD_KEYS.items() if key in data},
        all_linear_key="target_modules" if all_linear else None,
        training=from_keys(data, TRAINING_KEYS, where, {}, (
            *(name for name, key in _MEMORY_ARGS if key not in data), "precision"), NAME),
    )


def _expand(built: BuiltModel, targets: list[str] | None, task: str | None) -> Expansion:
    steps: list[str] = []
    fields: dict[str, Any] = {}
    if targets is not None:
        model = built.factory()
        config = built.config
        if any(getattr(config, k, None) is not None for k in ("vision_config", "audio_config")):
            raise AuditError("not-a-lora-config", f"swift --target_modules all-linear on the multimodal "
                             f"{built.class_name}: ms-swift builds a regex from its model registry's towers, which "
                             "lora-audit does not read", "list the target modules explicitly (--target_modules ...)")
        output = model.get_output_embeddings()
        head = next((n for n, m in model.named_modules() if m is output), None) if output is not None else None
        if head is not None and head.rsplit(".", 1)[-1] != "lm_head":
            raise AuditError("not-a-lora-config", f"swift all-linear on {built.class_name}: its output layer is "
                             f"{head}, and ms-swift's registry says which name it skips", "list the target modules "
                             "explicitly (--target_modules ...)")
        found = find_all_linears(model)
        rest = [t for t in targets if t != "all-linear"]
        fields["target_modules"] = sorted(set(rest + found))
        steps.append(f"target_modules all-linear -> find_all_linears: {', '.join(sorted(found))}")
    if task is None:
        if not built.class_name.endswith("ForCausalLM"):
            raise AuditError("not-a-lora-config", f"ms-swift picks the task type of {built.class_name} from its "
                             "model registry, which lora-audit does not read",
                             "give the swift command its --task_type (causal_lm, seq_cls, ...)")
        task = "CAUSAL_LM"
        steps.append("task_type unset -> causal_lm (ms-swift's for a causal LM)")
    fields["task_type"] = task
    return Expansion(fields=fields, steps=steps, sources={"target_modules": ["target_modules"]} if targets else {})


_IGNORE_LAYERS = ("lm_head", "score", "v_head", "classifier", "lora_A", "lora_B", "base_layer")
_IGNORE_CLASSES = ("glulinear", "gemma4clippablelinear")


def _linear(name: str, module: Any) -> bool:
    kind = type(module).__name__.lower()
    return "linear" in kind and not any(c in kind for c in _IGNORE_CLASSES) and not any(
        layer in name for layer in _IGNORE_LAYERS)


def find_all_linears(model: Any) -> list[str]:
    """ms-swift's ``find_all_linears`` with ``lm_head`` as the output layer (``find_layers``, as written there)."""
    inner = set()
    for name, module in model.named_modules():
        name = re.sub(r"\d+\.", "{}.", name)
        if not _linear(name, module):
            inner.add(name)
    names = set()
    for name, module in model.named_modules():
        if _linear(name, module):
            parts = name.split(".")
            leaf = parts.pop()
            for node in inner:
                while parts and node.endswith(re.sub(r"\d+\.", "{}.", leaf)):
                    leaf = f"{parts.pop()}.{leaf}"
            names.add(leaf)
    return sorted(names)
