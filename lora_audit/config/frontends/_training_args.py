"""The names of transformers' training arguments, which every framework's YAML shares.

The installed transformers' ``Seq2SeqTrainingArguments`` fields, plus the ones transformers 5 removed
(read from transformers 4.57.1's ``training_args.py``): frameworks pinned to transformers 4 still take
``warmup_ratio``, ``overwrite_output_dir``... and their published example configs use them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from functools import cache
from typing import Any

#: TrainingArguments fields of transformers 4.57.1 that transformers 5 no longer has.
REMOVED_IN_TRANSFORMERS_5 = frozenset({
    "adafactor", "fp16_backend", "fp16_opt_level", "fsdp_min_num_params", "fsdp_transformer_layer_cls_to_wrap",
    "group_by_length", "half_precision_backend", "include_inputs_for_metrics", "include_tokens_per_second",
    "jit_mode_eval", "logging_dir", "mp_parameters", "no_cuda", "overwrite_output_dir", "past_index",
    "per_gpu_eval_batch_size", "per_gpu_train_batch_size", "push_to_hub_model_id", "push_to_hub_organization",
    "push_to_hub_token", "ray_scope", "save_safetensors", "torchdynamo", "tpu_metrics_debug", "tpu_num_cores",
    "use_legacy_prediction_loop", "use_mps_device", "warmup_ratio",
})


@cache
def training_argument_names() -> frozenset[str]:
    """Every training-argument name, of the installed transformers and of transformers 4."""
    from transformers import Seq2SeqTrainingArguments

    return frozenset(f.name for f in dataclasses.fields(Seq2SeqTrainingArguments)) | REMOVED_IN_TRANSFORMERS_5


def known_keys_getattr(read_keys: frozenset[str], own_keys: frozenset[str]) -> Callable[[str], Any]:
    """A front-end module's ``__getattr__`` that gives ``KNOWN_KEYS`` on first use.

    ``KNOWN_KEYS`` (every key the framework accepts: the keys read into the LoraConfig, the framework's
    own, and transformers' training arguments) is computed lazily, so importing the registry does not
    import transformers' trainer.
    """

    def __getattr__(name: str) -> Any:
        if name == "KNOWN_KEYS":
            return read_keys | own_keys | training_argument_names()
        raise AttributeError(name)

    return __getattr__
