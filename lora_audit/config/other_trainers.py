"""Training frameworks whose configs lora-audit does not read yet, recognised by keys only they use.

A config of one of these is refused by name (``not-a-lora-config``), never read as the format it
happens to resemble: a SimpleTuner ``config.json`` has ``lora_rank`` (as LLaMA-Factory does) and
``model_type: lora`` (as a model's config.json does), and was misread as both. Each entry names
the keys that identify the framework and where they were read:

- SimpleTuner (bghira/SimpleTuner bc8e6ab7738ce457a2ed8eb2d26cadd91c6442cb, ``simpletuner/examples/*/config.json``
  and its argument parser): ``model_family`` with ``lora_type``, ``data_backend_config`` or ``flux_lora_target``.
- torchtune (pytorch/torchtune bd2a0fc7c31430972728494fa01aaeeb0ebf1ba1, ``recipes/configs/``): a
  top-level section whose ``_component_`` is a ``torchtune.`` path.
- ai-toolkit (ostris/ai-toolkit 27a03a91f23eb1b757d5ec2e80ee3e129cfcc350, ``config/examples/``): ``job`` with
  ``config.process``.
- OneTrainer (Nerogar/OneTrainer 23df3832e8f213d64c337e39f9365ba46e99fed0, ``modules/util/config/TrainConfig.py``,
  ``training_presets/``): ``training_method`` with ``base_model_name``. OneTrainer trains its own LoRA modules
  (``modules/module/LoRAModule.py``), chosen by its ``layer_filter`` presets, not PEFT's: refused, not reproduced.
- ms-swift (modelscope/ms-swift 3602360a562313afbf2ef6065fdf61f271a2c5b9, ``swift/arguments/base_args``):
  ``tuner_type`` (``train_type`` before ms-swift 4) beside ``model`` in a YAML. Its shell scripts (``swift sft``)
  are read by ``frontends/swift.py``.
"""

from __future__ import annotations

import re
from typing import Any

from lora_audit.config.static.shell import COMMAND_KEY

#: A torchtune LoRA builder (``torchtune.models.llama3.lora_llama3_8b``, ``qlora_...``): family, kind, size.
#: Such a recipe is read by ``frontends/torchtune.py``; any other torchtune recipe is refused here.
TORCHTUNE_LORA_BUILDER = re.compile(r"^torchtune\.models\.(\w+?)\.(q?lora)_(\w+)$")

#: (framework, the LoRA settings its config has, how to audit the same LoRA today)
_HOW = {
    "SimpleTuner": "lora_rank, lora_alpha, lora_type, flux_lora_target",
    "torchtune": "lora_rank, lora_alpha, lora_attn_modules, apply_lora_to_mlp",
    "ai-toolkit": "network: linear, linear_alpha",
    "ms-swift": "--lora_rank, --lora_alpha, --target_modules",
    "OneTrainer": "lora_rank, lora_alpha, layer_filter",
}


#: Why a framework's config is not read, where it is more than "another format".
_WHY = {"OneTrainer": "OneTrainer trains its own LoRA modules, chosen by its layer_filter presets, not PEFT's"}


def identify(data: dict[str, Any]) -> str | None:
    """The framework a parsed config belongs to, when it is one lora-audit does not read; else None."""
    if "model_family" in data and any(k in data for k in ("lora_type", "data_backend_config", "flux_lora_target")):
        return "SimpleTuner"
    model_component = data.get("model", {}).get("_component_") if isinstance(data.get("model"), dict) else None
    if any(isinstance(v, dict) and str(v.get("_component_", "")).startswith("torchtune.") for v in data.values()) \
            and not TORCHTUNE_LORA_BUILDER.match(str(model_component or "")):
        return "torchtune"  # not a LoRA builder (a full fine-tune): its LoRA recipes are read by frontends/torchtune
    if "training_method" in data and "base_model_name" in data:
        return "OneTrainer"  # its model_type (FLUX_DEV_1) made it look like a model's config.json
    model = data.get("model")
    config = data.get("config")
    if "job" in data and isinstance(config, dict) and "process" in config:
        return "ai-toolkit"
    if isinstance(model, str) and any(k in data for k in ("tuner_type", "train_type")) and COMMAND_KEY not in data:
        return "ms-swift"  # a YAML of ms-swift's arguments (its --config): its command line is read
    return None


#: Shell commands of trainers whose command lines lora-audit does not read yet.
_COMMANDS = (
    (re.compile(r"(^|[\s;&|])tune\s+run\b", re.MULTILINE), "torchtune"),
)


def identify_command(text: str) -> str | None:
    """The trainer a shell script runs, when lora-audit does not read its command lines; else None."""
    return next((name for pattern, name in _COMMANDS if pattern.search(text[:1_000_000])), None)


def refusal(framework: str, what: str = "config") -> tuple[str, str]:
    """The message and hint for a config of ``framework``: named, not guessed at."""
    article = "an" if (framework[0].lower() in "aeiu" or framework.startswith("ms-")) else "a"  # "a OneTrainer"
    why = _WHY.get(framework, "it is not a PEFT, axolotl, LLaMA-Factory or TRL config, and reading it as one "
                              "would give wrong numbers")
    return (
        f"is {article} {framework} {what}, which lora-audit does not read yet ({why})",
        f"audit the same LoRA with flags: lora-audit MODEL -r RANK --alpha ALPHA --targets ... (from its "
        f"{_HOW[framework]})",
    )
