"""TRL's ``trl sft --config file.yaml`` (and the other ``trl`` commands), read as TRL reads it.

Reproduces TRL 1.16.0 (PyPI; source read at huggingface/trl f2cd57710ae345ea6428ae95363267fcf38a3dc8):

- ``trl/trainer/model_config.py`` ``ModelConfig``: the LoRA fields and their defaults (``use_peft: false``,
  ``lora_r: 16``, ``lora_alpha: 32``, ``lora_dropout: 0.05``, ``lora_task_type: CAUSAL_LM``), and its
  ``__post_init__``: ``load_in_4bit`` with ``load_in_8bit`` is refused, and a one-entry
  ``lora_target_modules`` list becomes that entry as a string (which PEFT then reads as a regular
  expression matched against full module names).
- ``trl/trainer/utils.py`` ``get_peft_config``: ``None`` unless ``use_peft``, else
  ``LoraConfig(task_type=lora_task_type, r=lora_r, target_modules=lora_target_modules, lora_alpha,
  lora_dropout, bias="none", use_rslora, use_dora, modules_to_save=lora_modules_to_save)``, plus
  ``target_parameters`` when ``lora_target_parameters`` is set. ``get_quantization_config``:
  bitsandbytes 4-bit or 8-bit.
- ``trl/trainer/utils.py`` ``create_model_from_path``: the model class is the config's
  ``architectures[0]``, whatever ``lora_task_type`` says.

The test suite checks this translation against TRL's own ``get_peft_config(ModelConfig(...))``.
TRL's parser refuses keys no dataclass of the command knows, so such keys are reported.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lora_audit.config.frontends._base import Expansion, Translation, named_model
from lora_audit.config.frontends._training_args import known_keys_getattr
from lora_audit.errors import AuditError

if TYPE_CHECKING:
    from lora_audit.config.loading import LoadedFile

NAME = "trl"

#: ModelConfig's fields: what this front-end reads.
_READ_KEYS = frozenset({
    "model_name_or_path", "model_revision", "dtype", "attn_implementation", "use_peft", "lora_r", "lora_alpha",
    "lora_dropout", "lora_target_modules", "lora_target_parameters", "lora_modules_to_save", "lora_task_type",
    "use_rslora", "use_dora", "load_in_8bit", "load_in_4bit", "bnb_4bit_quant_type", "use_bnb_nested_quant",
    "bnb_4bit_quant_storage", "chat_template_path",
})

#: ModelConfig's defaults (TRL 1.16.0).
DEFAULTS: dict[str, Any] = {
    "use_peft": False, "lora_r": 16, "lora_alpha": 32, "lora_dropout": 0.05, "lora_target_modules": None,
    "lora_target_parameters": None, "lora_modules_to_save": None, "lora_task_type": "CAUSAL_LM",
    "use_rslora": False, "use_dora": False, "load_in_8bit": False, "load_in_4bit": False,
}

#: Keys of TRL's other argument dataclasses (ScriptArguments, DatasetMixtureConfig and the trainers'
#: configs: SFT, DPO, GRPO, KTO, RLOO, Reward, Distillation), beyond transformers' TrainingArguments, and
#: ``env`` (TrlParser's environment block). They do not change what PEFT builds.
_FRAMEWORK_KEYS = frozenset({
    "env", "activation_offloading", "assistant_only_loss", "beta", "cache_implementation", "cast_lm_head_to_fp32",
    "center_rewards_coefficient", "chat_template_kwargs", "chat_template_path", "completion_only_loss",
    "dataset_config", "dataset_kwargs", "dataset_name", "dataset_num_proc", "dataset_streaming",
    "dataset_test_split", "dataset_text_field", "dataset_train_split", "datasets", "delta", "desirable_weight",
    "disable_dropout", "discopop_tau", "ds3_gather_for_generation", "entropy_coef", "entropy_coef_delta",
    "entropy_coef_max", "entropy_coef_min", "entropy_target", "eos_token", "epsilon", "epsilon_high",
    "eval_packing", "f_alpha_divergence_coef", "f_divergence_type", "generation_batch_size", "generation_kwargs",
    "ignore_bias_buffers", "importance_sampling_level", "label_smoothing", "ld_alpha", "log_completions",
    "log_completions_hub_repo", "log_multimodal", "log_unique_prompts", "loss_type", "loss_weights",
    "mask_truncated_completions", "max_completion_length", "max_length", "max_tool_calling_iterations", "min_p",
    "model_init_kwargs", "multi_objective_aggregation", "normalize_advantages", "num_completions_to_print",
    "num_generations", "num_generations_eval", "num_iterations", "off_policy_mask_threshold", "packing",
    "packing_strategy", "pad_to_multiple_of", "pad_token", "padding_free", "precompute_ref_batch_size",
    "precompute_ref_log_probs", "ref_model_mixup_alpha", "ref_model_sync_steps", "repetition_penalty",
    "reward_clip_range", "reward_weights", "router_aux_loss_coef", "sapo_temperature_neg", "sapo_temperature_pos",
    "scale_rewards", "shuffle_dataset", "steps_per_generation", "streaming", "sync_ref_model",
    "teacher_model_init_kwargs", "teacher_model_name_or_path", "teacher_model_revision", "temperature",
    "test_split_size", "top_entropy_quantile", "top_k", "top_p", "transformers_continuous_batching_config",
    "truncation_mode", "trust_remote_code", "undesirable_weight", "use_adaptive_entropy", "use_bias_correction_kl",
    "use_transformers_continuous_batching", "use_transformers_paged", "use_vllm", "use_weighting", "vespo_k_neg",
    "vespo_k_pos", "vespo_lambda_neg", "vespo_lambda_pos", "vllm_enable_sleep_mode", "vllm_gpu_memory_utilization",
    "vllm_group_port", "vllm_importance_sampling_cap", "vllm_importance_sampling_clip_max",
    "vllm_importance_sampling_clip_min", "vllm_importance_sampling_correction", "vllm_importance_sampling_mode",
    "vllm_max_model_length", "vllm_mode", "vllm_model_impl", "vllm_server_base_url", "vllm_server_host",
    "vllm_server_port", "vllm_server_timeout", "vllm_structured_outputs_regex", "vllm_tensor_parallel_size",
})

#: Keys only axolotl files have: such a file is axolotl's, even with lora_r / lora_target_modules.
_AXOLOTL_KEYS = ("base_model", "base_model_config", "adapter", "lora_target_linear", "sequence_len",
                 "micro_batch_size")
#: TRL's ModelConfig LoRA keys that LLaMA-Factory and PEFT spell differently.
_LORA_KEYS = ("lora_r", "lora_target_modules", "lora_modules_to_save", "lora_target_parameters", "load_in_4bit",
              "load_in_8bit")


def detect(data: dict[str, Any]) -> int:
    if any(k in data for k in _AXOLOTL_KEYS):
        return 0
    if "use_peft" in data or "lora_task_type" in data:
        return 20
    if "model_name_or_path" in data and any(k in data for k in _LORA_KEYS):
        return 12
    if "model_name_or_path" in data and "dataset_name" in data:  # TRL's own example config: no LoRA in it
        return 5
    return 0


#: How TRL's ModelConfig spells each LoraConfig field.
FIELD_KEYS = {
    "r": "lora_r", "lora_alpha": "lora_alpha", "lora_dropout": "lora_dropout", "target_modules": "lora_target_modules",
    "target_parameters": "lora_target_parameters", "modules_to_save": "lora_modules_to_save",
    "task_type": "lora_task_type", "use_rslora": "use_rslora", "use_dora": "use_dora",
}
#: The keys that feed the LoraConfig (for did-you-mean on a misspelt one).
LORA_KEYS = (*FIELD_KEYS.values(), "use_peft", "load_in_4bit", "load_in_8bit")


__getattr__ = known_keys_getattr(_READ_KEYS, _FRAMEWORK_KEYS)



#: The keys that set the training step (the memory estimate's inputs), by TrainingSettings field.
TRAINING_KEYS = {"batch_size": ("per_device_train_batch_size",), "seq_len": ("max_length", "max_seq_length"),
                 "gradient_checkpointing": ("gradient_checkpointing",), "precision": ("bf16", "fp16"),
                 "optimizer": ("optim",)}
#: What the framework decides its own way (not read yet): --memory asks for these as flags.
TRAINING_UNREAD: tuple[str, ...] = ()


def translate(loaded: LoadedFile) -> Translation:
    data = loaded.data
    where = str(loaded.path)
    args = {**DEFAULTS, **{k: v for k, v in data.items() if k in _READ_KEYS}}
    if args["use_peft"] is not True:
        said = (f"use_peft is {data['use_peft']!r}" if "use_peft" in data
                else "use_peft is not set (TRL's default: false)")
        raise AuditError(
            "not-a-lora-config",
            f"{where}: {said}, so TRL trains the full model and builds no LoraConfig",
            "add use_peft: true to train LoRA (TRL then builds it from lora_r, lora_alpha, lora_target_modules...)",
        )
    if args["load_in_4bit"] and args["load_in_8bit"]:
        raise AuditError(
            "invalid-lora-value",
            f"{where}: load_in_4bit and load_in_8bit are both set",
            "TRL refuses this (\"You can't use 8 bit and 4 bit precision at the same time\"): keep one",
        )
    steps: list[str] = []
    targets = args["lora_target_modules"]
    if hasattr(targets, "__len__") and len(targets) == 1:  # ModelConfig.__post_init__, as TRL does it
        steps.append(f"lora_target_modules {targets!r} -> {targets[0]!r} (ModelConfig turns a one-entry list into "
                     "a string, which PEFT reads as a regex over full module names)")
        targets = targets[0]
    defaults = [f"{k} {DEFAULTS[k]}" for k in ("lora_r", "lora_alpha", "lora_dropout") if k not in data]
    if defaults:
        steps.append("TRL defaults: " + ", ".join(defaults))
    if targets is None and not args["lora_target_parameters"]:
        steps.append("lora_target_modules unset -> PEFT's defaults for the model type")
    fields: dict[str, Any] = {
        "r": args["lora_r"],
        "target_modules": targets,
        "lora_alpha": args["lora_alpha"],
        "lora_dropout": args["lora_dropout"],
        "bias": "none",
        "use_rslora": args["use_rslora"],
        "use_dora": args["use_dora"],
        "modules_to_save": args["lora_modules_to_save"],
    }
    if args["lora_target_parameters"] is not None:
        fields["target_parameters"] = args["lora_target_parameters"]
    if data.get("chat_template_path"):
        steps.append("chat_template_path: when the template adds tokens, TRL's trainer makes them trainable "
                     "(trainable_token_indices) and adds lm_head to modules_to_save; not in these counts")
    quantization = None
    for key, bits in (("load_in_4bit", 4), ("load_in_8bit", 8)):
        if args[key]:
            quantization = {"method": "bitsandbytes", "bits": bits, "source": f"{where}: {key}"}
    model, model_key = named_model(data, "model_name_or_path")
    task = args["lora_task_type"]
    return Translation(
        format=NAME,
        fields=fields,
        model=model,
        model_key=model_key,
        steps=steps,
        quantization=quantization,
        # TRL builds the checkpoint's class (architectures[0]) whatever lora_task_type says: the task type is set
        # after the build, so that it does not choose the class.
        expand=lambda built: Expansion(fields={"task_type": task}),
        sources={name: [key] for name, key in FIELD_KEYS.items() if key in data},
        all_linear_key="lora_target_modules" if targets == "all-linear" else None,
    )
