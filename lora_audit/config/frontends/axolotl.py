"""axolotl: a training YAML (``base_model``, ``adapter: lora``, ``lora_r``, ``lora_target_linear``...).

Reproduces how axolotl builds the ``LoraConfig`` it hands PEFT, as read in axolotl-ai-cloud/axolotl
at commit 067b021c8b87a9e5e380b9173c704cf7340e30f5 (July 2026, the 0.2x line; the ``VERSION`` file
there reads 0.18.0). axolotl pins its own torch and CUDA stack, so it is not installed here: the
tests pin this translation, and this docstring cites the code it follows.

``src/axolotl/loaders/adapter.py``:

- ``_build_peft_lora_config``: ``LoraConfig(r=lora_r, lora_alpha=lora_alpha,
  target_modules=lora_target_modules or [], target_parameters=lora_target_parameters or [],
  layers_to_transform=peft_layers_to_transform, layers_pattern=peft_layers_pattern,
  lora_dropout=lora_dropout, fan_in_fan_out=lora_fan_in_fan_out,
  modules_to_save=lora_modules_to_save or None, exclude_modules=lora_exclude_modules or None,
  bias="none", task_type=_get_peft_task_type(model), **_build_lora_config_kwargs(cfg))``, where the
  kwargs add ``use_dora`` / ``use_rslora`` (``peft_use_dora`` / ``peft_use_rslora``),
  ``rank_pattern`` / ``alpha_pattern`` (``lora_rank_pattern`` / ``lora_alpha_pattern``),
  ``layer_replication``, ``trainable_token_indices``, ``ensure_weight_tying`` (``peft_*``) and the
  initialisation (``peft_init_lora_weights``, ``peft.loftq_config``).
- ``lora_target_linear: true``: ``find_all_linear_names(model)``, the *last component* of the name of
  every module that is a ``torch.nn.Linear`` (or bitsandbytes Linear) or whose class name contains
  ``Linear`` (except ``LlamaLinearScalingRotaryEmbedding``), minus the output embedding
  (``loaders/utils.py`` ``get_linear_embedding_layers``: ``lm_head``; ``embed_out`` for gpt_neox),
  united with ``lora_target_modules`` (a string becomes a one-item list). Leaf names match every
  module of that name anywhere in the model (vision towers, routers), unlike PEFT's ``all-linear``.
- ``_get_peft_task_type``: ``SEQ_CLS`` when the model class name contains
  ``SequenceClassification``, ``TOKEN_CLS`` for ``TokenClassification``, else ``CAUSAL_LM``.

``src/axolotl/utils/schemas/peft.py`` gives the defaults (``lora_dropout`` 0.0) and requires
``load_in_4bit`` with ``adapter: qlora``; ``schemas/deprecated.py`` reads ``model_type`` as the model
class (``type_of_model``); ``loaders/model.py`` builds that class when it is not
``AutoModelForCausalLM``, else the model's own architecture (the image-text-to-text class for a VLM).
"""

from __future__ import annotations

from typing import Any

from lora_audit.config.frontends._base import Expansion, Translation, named_model
from lora_audit.errors import AuditError

NAME = "axolotl"

#: axolotl's keys that feed the LoraConfig, by the LoraConfig field they set (adapter.py).
_FIELD_SOURCES = {
    "r": "lora_r",
    "lora_alpha": "lora_alpha",
    "lora_dropout": "lora_dropout",
    "target_modules": "lora_target_modules",
    "target_parameters": "lora_target_parameters",
    "layers_to_transform": "peft_layers_to_transform",
    "layers_pattern": "peft_layers_pattern",
    "fan_in_fan_out": "lora_fan_in_fan_out",
    "modules_to_save": "lora_modules_to_save",
    "exclude_modules": "lora_exclude_modules",
    "use_dora": "peft_use_dora",
    "use_rslora": "peft_use_rslora",
    "rank_pattern": "lora_rank_pattern",
    "alpha_pattern": "lora_alpha_pattern",
    "layer_replication": "peft_layer_replication",
    "trainable_token_indices": "peft_trainable_token_indices",
    "ensure_weight_tying": "peft_ensure_weight_tying",
}
FIELD_KEYS = dict(_FIELD_SOURCES)
_MODEL_KEYS = ("base_model", "base_model_config", "model_type", "type_of_model", "model_revision",
               "revision_of_model", "adapter", "load_in_4bit", "load_in_8bit", "gptq", "lora_target_linear",
               "lora_model_dir", "peft", "peft_init_lora_weights", "trust_remote_code")
#: axolotl's other LoRA-named keys (schemas/*.py): training, merging and kernel settings that do not change
#: which parameters the LoraConfig creates.
_OTHER_LORA_KEYS = ("lora_on_cpu", "lora_mlp_kernel", "lora_qkv_kernel", "lora_o_kernel", "lora_embedding_kernel",
                    "loraplus_lr_ratio", "loraplus_lr_embedding", "peft_autocast_adapter_dtype",
                    "qlora_sharded_model_loading", "merge_lora", "merge_method", "relora", "relora_cpu_offload",
                    "relora_prune_method", "relora_prune_ratio", "vllm_lora_sync", "bnb_config_kwargs")
LORA_KEYS = tuple(_FIELD_SOURCES.values()) + ("lora_target_linear", "lora_model_dir", "peft_init_lora_weights")
KNOWN_KEYS = frozenset(LORA_KEYS) | frozenset(_MODEL_KEYS) | frozenset(_OTHER_LORA_KEYS)
LORA_PREFIXES = ("lora_", "peft_", "qlora_")
#: Keys only axolotl configs have.
_OWN_KEYS = ("base_model", "lora_target_linear", "adapter", "lora_model_dir", "micro_batch_size", "sequence_len")


def detect(data: dict[str, Any]) -> int:
    if any(k in data for k in ("base_model", "lora_target_linear")) or data.get("adapter") in ("lora", "qlora"):
        return 4
    return 3 if "lora_r" in data and any(k in data for k in _OWN_KEYS) else 0



#: The keys that set the training step (the memory estimate's inputs), by TrainingSettings field.
TRAINING_KEYS = {"batch_size": ("micro_batch_size",), "seq_len": ("sequence_len",), "precision": ("bf16", "fp16"),
                 "optimizer": ("optimizer",)}
#: What the framework decides its own way (not read yet): --memory asks for these as flags.
TRAINING_UNREAD: tuple[str, ...] = ("gradient_checkpointing",)


def translate(loaded: Any) -> Translation:
    data = loaded.data
    where = str(loaded.path)
    adapter = data.get("adapter")
    if adapter not in ("lora", "qlora"):
        what = "no adapter: it trains the full model" if not adapter else f"adapter: {adapter}, not LoRA"
        raise AuditError(
            "not-a-lora-config",
            f"{where} is an axolotl config with {what}",
            "lora-audit checks LoRA runs: set adapter: lora (or qlora)",
        )
    for key in ("lora_r", "lora_alpha"):
        if data.get(key) is None:
            raise AuditError(
                "invalid-lora-value",
                f"{where}: {key} is not set, and axolotl hands PEFT {key.removeprefix('lora_')}=None",
                f"set {key} (for example lora_r: 16, lora_alpha: 32)",
            )
    steps: list[str] = []
    fields: dict[str, Any] = {}
    sources: dict[str, list[str]] = {}
    for name, key in _FIELD_SOURCES.items():
        value = data.get(key)
        if value is None or (name in ("modules_to_save", "exclude_modules") and not value):
            continue
        fields[name] = value
        sources[name] = [key]
    fields.setdefault("lora_dropout", 0.0)
    fields["target_modules"] = data.get("lora_target_modules") or []
    fields["target_parameters"] = data.get("lora_target_parameters") or []
    fields["bias"] = "none"
    if not fields["target_modules"] and not data.get("lora_target_linear"):
        steps.append("no lora_target_modules and no lora_target_linear: target_modules=[] (nothing to adapt)")
    for key, why in (
        ("peft_init_lora_weights", "initialisation only: it does not change what trains"),
        ("peft", "peft.loftq_config: LoftQ initialisation only; it does not change what trains"),
    ):
        if data.get(key):
            steps.append(f"{key}: {why} (not run on the meta device)")
    if data.get("lora_model_dir"):
        steps.append(f"lora_model_dir: {data['lora_model_dir']}: axolotl loads that saved adapter, whose "
                     "adapter_config.json governs (audit it with --config DIR)")

    expand = None
    if data.get("lora_target_linear"):
        listed = fields["target_modules"]
        listed = listed if isinstance(listed, list) else [listed]
        sources["target_modules"] = ["lora_target_linear", *(["lora_target_modules"] if listed else [])]
        expand = _linear_expansion(listed)
    else:
        expand = _task_only

    model, model_key = named_model(data, "base_model_config", "base_model")
    model_class = next((data[k] for k in ("type_of_model", "model_type") if _text(data.get(k))), None)
    if model_class == "AutoModelForCausalLM":
        model_class = None  # axolotl then builds the model's own class (image-text-to-text for a VLM)
    return Translation(
        format=NAME,
        fields=fields,
        model=model,
        model_key=model_key,
        model_class=model_class,
        steps=steps,
        quantization=_quantization(data, where),
        expand=expand,
        sources=sources,
        all_linear_key="lora_target_linear" if data.get("lora_target_linear") else None,
    )


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _quantization(data: dict[str, Any], where: str) -> dict[str, Any] | None:
    if data.get("load_in_4bit") or data.get("adapter") == "qlora":
        keys = [k for k in ("load_in_4bit",) if data.get(k)] + (["adapter: qlora"] if data.get("adapter") == "qlora"
                                                                   else [])
        return {"method": "bitsandbytes", "bits": 4, "source": f"{where}: {', '.join(keys)}"}
    if data.get("load_in_8bit"):
        return {"method": "bitsandbytes", "bits": 8, "source": f"{where}: load_in_8bit"}
    if data.get("gptq"):
        return {"method": "gptq", "bits": None, "source": f"{where}: gptq"}
    return None


def task_type_for(class_name: str) -> str:
    """axolotl's ``_get_peft_task_type``: from the model class name."""
    if "SequenceClassification" in class_name:
        return "SEQ_CLS"
    if "TokenClassification" in class_name:
        return "TOKEN_CLS"
    return "CAUSAL_LM"


def _task_step(built: Any) -> tuple[str, str]:
    task = task_type_for(built.class_name)
    return task, f"task_type -> {task} (from the model class {built.class_name})"


def _task_only(built: Any) -> Expansion:
    task, step = _task_step(built)
    return Expansion(fields={"task_type": task}, steps=[step])


def find_all_linear_names(model: Any, model_type: str) -> list[str]:
    """axolotl's ``find_all_linear_names``: leaf names of Linear-like modules, minus the output embedding."""
    import torch

    names = set()
    for name, module in model.named_modules():
        cls_name = module.__class__.__name__
        if isinstance(module, torch.nn.Linear) or (
            "Linear" in cls_name and cls_name not in ("LlamaLinearScalingRotaryEmbedding",)
        ):
            parts = name.split(".")
            names.add(parts[0] if len(parts) == 1 else parts[-1])
    names.discard(output_embedding(model_type))
    return sorted(names)


def output_embedding(model_type: str) -> str:
    """``get_linear_embedding_layers(model_type)[1]`` (loaders/utils.py)."""
    return {"gpt_neox": "embed_out"}.get(model_type, "lm_head")


def _linear_expansion(listed: list[Any]) -> Any:
    def expand(built: Any) -> Expansion:
        model = built.factory()
        model_type = getattr(getattr(model, "config", None), "model_type", None) or built.model_type
        linear = find_all_linear_names(model, model_type)
        del model
        targets = sorted(set(listed) | set(linear), key=str)
        shown = ", ".join(linear)
        steps = [f"lora_target_linear -> {len(linear)} names: {shown} (leaf names of every Linear-like module, "
                 f"minus the output embedding {output_embedding(model_type)})"]
        if listed:
            steps.append(f"united with lora_target_modules ({len(listed)}) -> {len(targets)} names")
        task, step = _task_step(built)
        return Expansion(fields={"target_modules": targets, "task_type": task}, steps=[*steps, step])

    return expand
