"""LLaMA-Factory's training YAML (``llamafactory-cli train file.yaml``), read as LLaMA-Factory 0.9.x reads it.

Reproduces LLaMA-Factory v0.9.5 (commit 7af909522a951e3ad9f022ea6f88b6755257eaa5; the LoRA path is
unchanged at ff6d4d12eeb0, 0.9.6.dev0):

- ``hparams/finetuning_args.py``: the defaults (``finetuning_type: lora``, ``lora_rank: 8``,
  ``lora_alpha``: ``lora_alpha or lora_rank * 2``, ``lora_dropout: 0``, ``lora_target: all``,
  ``freeze_vision_tower`` and ``freeze_multi_modal_projector`` true, ``freeze_language_model`` false),
  and ``split_arg``: ``lora_target`` and ``additional_target`` are comma-separated strings.
- ``model/adapter.py`` ``_setup_lora_tuning``: ``LoraConfig(task_type=CAUSAL_LM, r=lora_rank,
  target_modules, lora_alpha, lora_dropout, use_rslora, use_dora, modules_to_save=additional_target)``,
  ``init_lora_weights`` ``"pissa"`` / ``"pissa_niter_{pissa_iter}"`` with ``pissa_init``; a resized
  vocabulary adds the embedding layers to ``additional_target``.
- ``finetuning_type: oft``: the same function's OFT branch, ``OFTConfig(task_type=CAUSAL_LM,
  r=oft_rank, oft_block_size, target_modules, module_dropout, modules_to_save=additional_target)``
  (defaults ``oft_rank: 0``, ``oft_block_size: 32``); its target modules are ``lora_target``'s,
  expanded as for LoRA: ``oft_target`` is split but never read.
- ``model/model_utils/misc.py`` ``find_all_linear_modules`` (``lora_target: all``): the last name
  component of every module whose class name contains ``Linear`` (and not ``Embedding``), skipping any
  module whose path contains ``lm_head`` (``output_layer`` for chatglm, ``output`` for internlm2), a
  composite model's projector keys, and with ``freeze_vision_tower`` its vision keys.
  ``find_expanded_modules`` for ``use_llama_pro``.
- ``model/model_utils/visual.py`` ``patch_target_modules``: for a composite (vision-language) model the
  names become the full path of every module containing one of them, minus the forbidden keys
  (``get_forbidden_modules``: vision tower, projector, language model, per the ``freeze_*`` switches)
  and the model's LoRA-conflict keys. ``COMPOSITE_MODELS`` below is that file's table.
- ``model/loader.py``: the model class is ``AutoModelForImageTextToText``, ``AutoModelForSeq2SeqLM``,
  ``AutoModelForTextToWaveform`` or ``AutoModelForCausalLM``, the first whose mapping has the config.
- ``model/model_utils/quantization.py``: ``quantization_bit`` with ``quantization_method`` (bnb, hqq,
  eetq) quantizes on the fly.

LLaMA-Factory's parser refuses keys it does not know (``HfArgumentParser.parse_dict``), so such keys
are reported, never dropped silently.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from lora_audit.config.frontends._base import Expansion, Translation, named_model
from lora_audit.config.frontends._training_args import known_keys_getattr
from lora_audit.errors import AuditError
from lora_audit.integrations.transformers import auto_model_mapping

if TYPE_CHECKING:
    from lora_audit.config.loading import LoadedFile
    from lora_audit.model.build import BuiltModel

NAME = "llamafactory"

#: Keys only a LLaMA-Factory file has (axolotl, TRL and PEFT spell these differently).
_OWN_KEYS = (
    "finetuning_type", "lora_rank", "lora_target", "additional_target", "stage", "template", "cutoff_len",
    "quantization_bit", "freeze_vision_tower", "pissa_init",
)

#: Keys this front-end reads: what decides the LoraConfig, the model, or the quantization.
_READ_KEYS = frozenset({
    "model_name_or_path", "finetuning_type", "lora_rank", "lora_alpha", "lora_dropout", "lora_target",
    "additional_target", "use_rslora", "use_dora", "pissa_init", "pissa_iter", "pissa_convert",
    "quantization_bit", "quantization_method", "quantization_type", "double_quantization",
    "freeze_vision_tower", "freeze_multi_modal_projector", "freeze_language_model", "use_llama_pro",
    "freeze_trainable_layers", "resize_vocab", "adapter_name_or_path", "create_new_adapter", "stage",
    "loraplus_lr_ratio", "loraplus_lr_embedding", "use_unsloth", "add_tokens", "add_special_tokens",
    "new_special_tokens_config", "mixture_of_depths", "use_galore", "use_apollo", "use_badam",
    "oft_rank", "oft_block_size", "oft_target", "module_dropout",
})

#: LLaMA-Factory's other argument names (hparams/*.py at v0.9.5): settings for data, training, inference
#: and export that do not change what PEFT builds. transformers' Seq2SeqTrainingArguments come on top.
_FRAMEWORK_KEYS = frozenset({
    "adapter_folder", "apollo_layerwise", "apollo_proj", "apollo_proj_type", "apollo_rank", "apollo_scale",
    "apollo_scale_front", "apollo_scale_type", "apollo_target", "apollo_update_interval", "asft_alpha",
    "audio_sampling_rate", "badam_mask_mode", "badam_mode", "badam_start_block", "badam_switch_interval",
    "badam_switch_mode", "badam_update_ratio", "badam_verbose", "batch_size", "block_diag_attn", "buffer_size",
    "cache_dir", "compute_accuracy", "compute_dtype", "crop_to_patches", "cutoff_len", "data_shared_file_system",
    "dataset", "dataset_dir", "default_system", "device_map", "disable_gradient_checkpointing", "disable_shuffling",
    "do_sample", "download_mode", "dpo_label_smoothing", "eaft_alpha", "early_stopping_steps",
    "enable_liger_kernel", "enable_thinking", "enable_torch_profiler", "eval_dataset", "eval_num_beams",
    "eval_on_each_dataset", "export_device", "export_dir", "export_hub_model_id", "export_legacy_format",
    "export_quantization_bit", "export_quantization_dataset", "export_quantization_maxlen",
    "export_quantization_nsamples", "export_size", "flash_attn", "fp8", "fp8_backend",
    "fp8_enable_fsdp_float8_all_gather", "freeze_extra_modules", "freeze_trainable_modules", "galore_layerwise",
    "galore_proj_type", "galore_rank", "galore_scale", "galore_target", "galore_update_interval", "hf_hub_token",
    "hyper_parallel_args", "hyper_parallel_cp_size", "ignore_pad_token_for_loss", "image_do_pan_and_scan",
    "image_max_pixels", "image_min_pixels", "include_effective_tokens_per_second", "infer_backend", "infer_dtype",
    "init_special_tokens", "interleave_probs", "kt_expert_checkpoint_path", "kt_lora_expert_intermediate_size",
    "kt_lora_expert_num", "kt_use_lora_experts", "kt_weight_path", "kto_chosen_weight", "kto_rejected_weight",
    "lang", "ld_alpha", "length_penalty", "low_cpu_mem_usage", "mask_history", "master_addr", "master_port",
    "max_length", "max_new_tokens", "max_samples", "media_dir", "mix_strategy", "model_max_length",
    "model_revision", "moe_aux_loss_coef", "ms_hub_token", "n_shot", "neat_packing", "num_beams",
    "offload_folder", "om_hub_token", "overwrite_cache",
    "overwrite_output_dir", "packing", "plot_loss", "ppo_buffer_size", "ppo_epochs", "ppo_score_norm", "ppo_target",
    "ppo_whiten_rewards", "pref_bco_weight", "pref_beta", "pref_ftx", "pref_loss", "preprocessing_batch_size",
    "preprocessing_num_workers", "preserve_thinking", "print_param_status", "profile_modules",
    "profiler_active_steps", "profiler_output_dir", "profiler_profile_memory", "profiler_record_shapes",
    "profiler_repeat", "profiler_wait_steps", "profiler_warmup_steps", "profiler_with_stack", "pure_bf16",
    "quantization_device_map", "ray_init_kwargs", "ray_num_workers", "ref_model", "ref_model_adapters",
    "ref_model_quantization_bit", "repetition_penalty", "reward_model", "reward_model_adapters",
    "reward_model_quantization_bit", "reward_model_type", "rope_scaling", "save_dir", "seed", "sglang_config",
    "sglang_lora_backend", "sglang_maxlen", "sglang_mem_fraction", "sglang_tp_size", "shift_attn", "simpo_gamma",
    "skip_special_tokens", "split_special_tokens", "streaming", "swanlab_api_key", "swanlab_lark_secret",
    "swanlab_lark_webhook_url", "swanlab_logdir", "swanlab_mode", "swanlab_project", "swanlab_run_name",
    "swanlab_workspace", "task", "task_dir", "temperature", "template", "tokenized_path", "tool_format", "top_k",
    "top_p", "train_from_scratch", "train_on_prompt", "trust_remote_code", "upcast_layernorm",
    "upcast_lmhead_output", "use_adam_mini", "use_asft_loss", "use_audio_in_video", "use_dft_loss", "use_eaft_loss",
    "use_fast_tokenizer", "use_hyper_parallel", "use_kt", "use_kv_cache", "use_mca", "use_muon", "use_reentrant_gc",
    "use_swanlab", "use_unsloth_gc", "use_v1_kernels", "val_size", "video_fps", "video_max_pixels", "video_maxlen",
    "video_min_pixels", "vllm_config", "vllm_enforce_eager", "vllm_gpu_util", "vllm_max_lora_rank", "vllm_maxlen",
})

#: LLaMA-Factory's defaults (hparams/finetuning_args.py), for the keys a file may leave out.
DEFAULTS: dict[str, Any] = {
    "finetuning_type": "lora", "lora_rank": 8, "lora_alpha": None, "lora_dropout": 0.0, "lora_target": "all",
    "additional_target": None, "use_rslora": False, "use_dora": False, "pissa_init": False, "pissa_iter": 16,
    "freeze_vision_tower": True, "freeze_multi_modal_projector": True, "freeze_language_model": False,
    "use_llama_pro": False, "freeze_trainable_layers": 2, "resize_vocab": False, "stage": "sft",
    "quantization_method": "bnb", "create_new_adapter": False,
    "oft_rank": 0, "oft_block_size": 32, "module_dropout": 0.0,
}


@dataclasses.dataclass(frozen=True)
class CompositeModel:
    """One entry of LLaMA-Factory's ``COMPOSITE_MODELS`` (model/model_utils/visual.py)."""

    projector_keys: tuple[str, ...] = ("multi_modal_projector",)
    vision_model_keys: tuple[str, ...] = ("vision_tower",)
    language_model_keys: tuple[str, ...] = ("language_model", "lm_head")
    lora_conflict_keys: tuple[str, ...] = ()


_QWEN_VL = CompositeModel(
    projector_keys=("visual.merger",), vision_model_keys=("visual.patch_embed", "visual.blocks"),
    lora_conflict_keys=("patch_embed",),
)
_QWEN3_VL = CompositeModel(
    projector_keys=("visual.merger",),
    vision_model_keys=("visual.pos_embed", "visual.patch_embed", "visual.blocks", "visual.deepstack_merger_list"),
    lora_conflict_keys=("patch_embed",),
)
_QWEN3_5 = CompositeModel(
    projector_keys=("model.visual.merger",),
    vision_model_keys=("visual.pos_embed", "visual.patch_embed", "visual.blocks"),
    lora_conflict_keys=("patch_embed",),
)
_OMNI = CompositeModel(
    projector_keys=("visual.merger", "audio_tower.proj"),
    vision_model_keys=("visual.patch_embed", "visual.blocks", "audio_tower"),
    language_model_keys=("model", "lm_head"), lora_conflict_keys=("patch_embed",),
)

#: LLaMA-Factory v0.9.5's table of composite (multimodal) models, by model_type.
COMPOSITE_MODELS: dict[str, CompositeModel] = {
    "dots_ocr": CompositeModel(("vision_tower.merger",), ("vision_tower",), ("model", "lm_head"), ("merger",)),
    "gemma3": CompositeModel(),
    "gemma3n": CompositeModel(vision_model_keys=("vision_tower", "audio_tower"),
                              lora_conflict_keys=("timm_model", "subsample_conv_projection")),
    "gemma4": CompositeModel(("model.embed_vision", "model.embed_audio"), ("vision_tower", "audio_tower"),
                             lora_conflict_keys=("per_layer_projection_norm",)),
    "glm4v": _QWEN_VL,
    "glm4v_moe": _QWEN_VL,
    "glm_ocr": _QWEN_VL,
    "internvl": CompositeModel(),
    "interns1": CompositeModel(),
    "Keye": CompositeModel(("mlp_AR",), ("visual.vision_model.patch_embedding", "visual.vision_model.encoder"),
                           ("model", "lm_head"), ("patch_embedding",)),
    "kimi_vl": CompositeModel(),
    "llama4": CompositeModel(vision_model_keys=("vision_model",)),
    "llava": CompositeModel(),
    "llava_next": CompositeModel(),
    "llava_next_video": CompositeModel(),
    "minicpmv": CompositeModel(("resampler",), ("vpm",), ("llm",)),
    "minicpmv4_6": CompositeModel(("model.merger",), ("model.vision_tower",), ("model.language_model", "lm_head")),
    "minicpmo": CompositeModel(("resampler",), ("vpm", "apm", "audio_avg_pooler", "audio_projection_layer", "tts"),
                               ("llm",), ("audio_projection_layer",)),
    "mistral3": CompositeModel(projector_keys=("model.multi_modal_projector",)),
    "mllama": CompositeModel(vision_model_keys=("vision_model",)),
    "paligemma": CompositeModel(),
    "qwen2_audio": CompositeModel(vision_model_keys=("audio_tower",)),
    "qwen2_5_omni_thinker": _OMNI,
    "qwen2_vl": _QWEN_VL,
    "qwen2_5_vl": _QWEN_VL,
    "qwen3_vl": _QWEN3_VL,
    "qwen3_vl_moe": _QWEN3_VL,
    "qwen3_omni_moe_thinker": CompositeModel(
        ("visual.merger", "audio_tower.proj"),
        ("visual.pos_embed", "visual.patch_embed", "visual.blocks", "visual.deepstack_merger_list", "audio_tower"),
        lora_conflict_keys=("patch_embed",),
    ),
    "qwen3_5": _QWEN3_5,
    "qwen3_5_moe": _QWEN3_5,
    "video_llava": CompositeModel(),
}

#: Quantization methods of ``quantization_method`` as lora-audit names them.
_QUANT_METHODS = {"bnb": "bitsandbytes", "hqq": "hqq", "eetq": "eetq"}
#: The auto classes LLaMA-Factory's loader tries, in its order.
_LOAD_CLASSES = ("AutoModelForImageTextToText", "AutoModelForSeq2SeqLM", "AutoModelForTextToWaveform")


def detect(data: dict[str, Any]) -> int:
    own = sum(k in data for k in _OWN_KEYS)
    return 10 + own if own else 0


#: How LLaMA-Factory spells each LoraConfig field it sets.
FIELD_KEYS = {
    "r": "lora_rank", "lora_alpha": "lora_alpha", "lora_dropout": "lora_dropout", "target_modules": "lora_target",
    "modules_to_save": "additional_target", "use_rslora": "use_rslora", "use_dora": "use_dora",
    "init_lora_weights": "pissa_init",
}
#: finetuning_type: oft: the OFTConfig fields and the keys they come from.
OFT_FIELD_KEYS = {"r": "oft_rank", "oft_block_size": "oft_block_size", "module_dropout": "module_dropout",
                  "target_modules": "lora_target", "modules_to_save": "additional_target"}
#: The keys that feed the LoraConfig (for did-you-mean on a misspelt one).
LORA_KEYS = (*FIELD_KEYS.values(), "pissa_iter", "finetuning_type", "freeze_vision_tower",
             "freeze_multi_modal_projector", "freeze_language_model", "quantization_bit")


__getattr__ = known_keys_getattr(_READ_KEYS, _FRAMEWORK_KEYS)


def split_arg(value: Any) -> Any:
    """LLaMA-Factory's ``split_arg``: a comma-separated string becomes a list; anything else stays."""
    if isinstance(value, str):
        return [item.strip() for item in value.split(",")]
    return value



#: The keys that set the training step (the memory estimate's inputs), by TrainingSettings field.
TRAINING_KEYS = {"batch_size": ("per_device_train_batch_size",), "seq_len": ("cutoff_len",),
                 "precision": ("bf16", "fp16"), "optimizer": ("optim",)}
#: What the framework decides its own way (not read yet): --memory asks for these as flags.
TRAINING_UNREAD: tuple[str, ...] = ("gradient_checkpointing",)


def translate(loaded: LoadedFile) -> Translation:
    data = loaded.data
    where = str(loaded.path)
    args = {**DEFAULTS, **{k: v for k, v in data.items() if k in DEFAULTS or k in _READ_KEYS}}
    steps: list[str] = []

    finetuning_type = args["finetuning_type"]
    if finetuning_type not in ("lora", "oft"):
        raise AuditError(
            "not-a-lora-config",
            f"{where}: finetuning_type: {finetuning_type} trains the model itself (LLaMA-Factory builds no PEFT "
            "adapter for it)",
            "lora-audit checks PEFT adapters: finetuning_type: lora or oft",
        )
    for switch in ("use_galore", "use_apollo", "use_badam"):
        if data.get(switch):
            raise AuditError(
                "not-a-lora-config",
                f"{where}: {switch} with finetuning_type: lora is refused by LLaMA-Factory "
                "(\"Cannot use LoRA with GaLore, APOLLO or BAdam together\")",
                f"remove {switch}, or audit a LoRA config",
            )
    if data.get("adapter_name_or_path") and not args["create_new_adapter"]:
        raise AuditError(
            "not-a-lora-config",
            f"{where}: adapter_name_or_path is set: LLaMA-Factory resumes that saved adapter instead of building "
            "a new LoraConfig from this file",
            "audit the saved adapter: --config <adapter directory>",
        )

    targets = split_arg(args["lora_target"])
    additional = split_arg(args["additional_target"])
    if finetuning_type == "oft":
        fields, method = _oft_fields(data, args, additional, steps), "OFT"
    else:
        method = "LORA"
        rank = args["lora_rank"]
        alpha = args["lora_alpha"] or (rank * 2 if isinstance(rank, int) and not isinstance(rank, bool) else None)
        if not data.get("lora_alpha"):
            steps.append(f"lora_alpha unset -> lora_rank * 2 = {alpha}")
        fields = {
            "r": rank,
            "lora_alpha": alpha,
            "lora_dropout": args["lora_dropout"],
            "use_rslora": args["use_rslora"],
            "use_dora": args["use_dora"],
            "modules_to_save": additional,
        }
    if targets != ["all"]:
        fields["target_modules"] = targets
    if args["pissa_init"]:
        pissa_iter = args["pissa_iter"]
        fields["init_lora_weights"] = "pissa" if pissa_iter == -1 else f"pissa_niter_{pissa_iter}"
        steps.append(f"pissa_init -> init_lora_weights: {fields['init_lora_weights']}")

    quantization = _quantization(data, args, where)
    if quantization is not None and args["pissa_init"]:
        raise AuditError(
            "not-a-lora-config",
            f"{where}: pissa_init on a quantized model is refused by LLaMA-Factory "
            "(\"Cannot initialize PiSSA adapter on quantized models\")",
            "remove pissa_init or quantization_bit",
        )
    steps += _not_reproduced(data, args)

    keys = FIELD_KEYS if method == "LORA" else OFT_FIELD_KEYS
    sources = {name: [key] for name, key in keys.items() if key in data}
    if "lora_alpha" not in data and "lora_rank" in data and method == "LORA":
        sources["lora_alpha"] = ["lora_rank"]
    model, model_key = named_model(data, "model_name_or_path")
    return Translation(
        format=NAME,
        fields=fields,
        method=method,
        model=model,
        model_key=model_key,
        steps=steps,
        quantization=quantization,
        expand=lambda built: expand(built, args, targets, additional),
        sources=sources,
        all_linear_key="lora_target" if targets == ["all"] else None,
    )


def _oft_fields(data: dict[str, Any], args: dict[str, Any], additional: Any, steps: list[str]) -> dict[str, Any]:
    """``finetuning_type: oft``: ``_setup_lora_tuning``'s OFT branch (model/adapter.py at 7af90952, lines 243-250).

    ``OFTConfig(task_type=CAUSAL_LM, r=oft_rank, oft_block_size, target_modules, module_dropout,
    modules_to_save=additional_target)``; the target modules are ``lora_target``'s, expanded as for LoRA.
    """
    steps.append("finetuning_type: oft -> OFTConfig(r=oft_rank, oft_block_size, module_dropout)")
    if "oft_target" in data:
        # finetuning_args.py splits oft_target, but _setup_lora_tuning passes lora_target to OFTConfig
        steps.append(f"oft_target: {data['oft_target']} is not read: LLaMA-Factory hands OFT lora_target's modules "
                     f"({args['lora_target']})")
    return {"r": args["oft_rank"], "oft_block_size": args["oft_block_size"], "module_dropout": args["module_dropout"],
            "modules_to_save": additional}


def _quantization(data: dict[str, Any], args: dict[str, Any], where: str) -> dict[str, Any] | None:
    bits = data.get("quantization_bit")
    if bits is None:
        return None
    method = args["quantization_method"]
    return {
        "method": _QUANT_METHODS.get(method, str(method)),
        "bits": bits,
        "source": f"{where}: quantization_bit" + (f", quantization_method: {method}" if "quantization_method" in data
                                                  else ""),
    }


def _not_reproduced(data: dict[str, Any], args: dict[str, Any]) -> list[str]:
    """What LLaMA-Factory does around PEFT that these counts do not include, said in the report."""
    notes = []
    if args["stage"] in ("rm", "ppo"):
        notes.append(f"stage {args['stage']}: LLaMA-Factory wraps the model in a value head (hidden_size + 1 "
                     "trainable parameters) after PEFT; not in these counts")
    if any(data.get(k) for k in ("add_tokens", "add_special_tokens", "new_special_tokens_config")):
        notes.append("add_tokens / add_special_tokens: LLaMA-Factory resizes the embeddings to the tokenizer; these "
                     "counts use the config's vocab_size")
    if data.get("use_unsloth"):
        notes.append("use_unsloth: unsloth's get_peft_model builds the adapter from the same arguments")
    if data.get("mixture_of_depths"):
        notes.append("mixture_of_depths: LLaMA-Factory converts the model's layers first; not reproduced")
    return notes


# --------------------------------------------------------------------------- model-dependent part
def expand(built: BuiltModel, args: dict[str, Any], targets: Any, additional: Any) -> Expansion:
    """``_setup_lora_tuning`` on the built model: the target names LLaMA-Factory hands PEFT."""
    model = built.factory()
    model_type = getattr(built.config, "model_type", None)
    # LLaMA-Factory hands PEFT CAUSAL_LM whatever class its loader builds (a VLM's ForConditionalGeneration too):
    # set here, after the build, so that the task type does not choose the class.
    steps: list[str] = []
    fields: dict[str, Any] = {"task_type": "CAUSAL_LM"}
    if targets == ["all"]:
        targets = find_all_linear_modules(model, model_type, args["freeze_vision_tower"])
        steps.append(f"lora_target all -> find_all_linear_modules: {_names(targets)}")
    if args["use_llama_pro"]:
        targets = find_expanded_modules(model, built.config, targets, args["freeze_trainable_layers"])
        steps.append(f"use_llama_pro -> find_expanded_modules: {len(targets)} module paths")
    patched = patch_target_modules(model, model_type, args, targets)
    if patched is not targets:
        steps.append(f"{model_type} is a composite model -> patch_target_modules: {len(patched)} module paths "
                     f"(skipping {', '.join(_forbidden(model_type, args, with_conflicts=True)) or 'nothing'})")
    fields["target_modules"] = patched
    if args["resize_vocab"] and additional is None:
        embeddings = {model.get_input_embeddings(), model.get_output_embeddings()}
        names = sorted({name.split(".")[-1] for name, module in model.named_modules() if module in embeddings})
        fields["modules_to_save"] = names
        steps.append(f"resize_vocab -> additional_target: {', '.join(names)}")
    loads = _load_class(built.config)
    if loads is not None and loads != built.class_name:
        steps.append(f"LLaMA-Factory loads {loads}; audited {built.class_name} (pass --model-class {loads})")
    return Expansion(fields=fields, steps=steps)


def find_all_linear_modules(model: Any, model_type: str | None, freeze_vision_tower: bool) -> list[str]:
    """LLaMA-Factory's ``find_all_linear_modules``, sorted (LLaMA-Factory returns a set's order)."""
    forbidden = {"lm_head"}
    if model_type == "chatglm":
        forbidden.add("output_layer")
    elif model_type == "internlm2":
        forbidden.add("output")
    composite = COMPOSITE_MODELS.get(model_type or "")
    if composite is not None:
        forbidden.update(composite.projector_keys)
        if freeze_vision_tower:
            forbidden.update(composite.vision_model_keys)
    names = set()
    for name, module in model.named_modules():
        if any(key in name for key in forbidden):
            continue
        cls = type(module).__name__
        if "Linear" in cls and "Embedding" not in cls:
            names.add(name.split(".")[-1])
    return sorted(names)


def find_expanded_modules(model: Any, config: Any, targets: list[str], num_layer_trainable: Any) -> list[str]:
    """LLaMA-Factory's ``find_expanded_modules`` (``use_llama_pro``)."""
    num_layers = getattr(config, "num_hidden_layers", None)
    if not num_layers or not isinstance(num_layer_trainable, int) or num_layer_trainable <= 0 \
            or num_layers % num_layer_trainable:
        raise AuditError(
            "invalid-lora-value",
            f"use_llama_pro: num_hidden_layers {num_layers} is not divisible by freeze_trainable_layers "
            f"{num_layer_trainable}",
            "LLaMA-Factory refuses this too: set freeze_trainable_layers to a divisor of the layer count",
        )
    stride = num_layers // num_layer_trainable
    layers = [f".{i:d}." for i in range(stride - 1, num_layers + stride - 1, stride)]
    return [name for name, _ in model.named_modules()
            if any(t in name for t in targets) and any(layer in name for layer in layers)]


def _forbidden(model_type: str | None, args: dict[str, Any], with_conflicts: bool = False) -> list[str]:
    """``get_forbidden_modules`` (plus the LoRA-conflict keys, as ``patch_target_modules`` adds them)."""
    composite = COMPOSITE_MODELS.get(model_type or "")
    if composite is None:
        return []
    keys: list[str] = []
    if args["freeze_vision_tower"]:
        keys += composite.vision_model_keys
    if args["freeze_multi_modal_projector"]:
        keys += composite.projector_keys
    if args["freeze_language_model"]:
        keys += composite.language_model_keys
    if with_conflicts:
        keys += composite.lora_conflict_keys
    return list(dict.fromkeys(keys))


def patch_target_modules(model: Any, model_type: str | None, args: dict[str, Any], targets: Any) -> Any:
    """LLaMA-Factory's ``patch_target_modules``: full module paths for a composite model, else ``targets`` itself."""
    if model_type not in COMPOSITE_MODELS:
        return targets
    forbidden = _forbidden(model_type, args, with_conflicts=True)
    return [name for name, _ in model.named_modules()
            if any(t in name for t in targets) and not any(f in name for f in forbidden)]


def _load_class(config: Any) -> str | None:
    """The class LLaMA-Factory's loader builds for ``config`` (model/loader.py)."""
    if config is None:
        return None
    for auto_name in (*_LOAD_CLASSES, "AutoModelForCausalLM"):
        mapping = auto_model_mapping(auto_name)
        if type(config) in mapping:
            cls = mapping[type(config)]
            return getattr(cls, "__name__", None)
    return None


def _names(names: list[str]) -> str:
    return f"{len(names)} name{'s' if len(names) != 1 else ''}: {', '.join(names)}"
