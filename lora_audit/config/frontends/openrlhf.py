"""OpenRLHF's command line (``deepspeed --module openrlhf.cli.train_sft ...`` in a shell script), read as
OpenRLHF reads it.

Reproduces OpenRLHF at OpenRLHF/OpenRLHF 3c3be6234e0cb353e76bb8019947db9dfe99fca7, and its releases before the
dotted arguments (ed62d0e20dea08397251eba5e010ee9dabc4d048; 76351db1ffe8e12db632a5bf450bbafb3e2031ed read):

- ``openrlhf/cli/train_sft.py`` and ``train_dpo.py``: ``--ds.lora.rank`` (default 0: no LoRA),
  ``--ds.lora.alpha`` (16), ``--ds.lora.target_modules`` (``nargs="*"``, default the string
  ``"all-linear"``), ``--ds.lora.dropout`` (0), ``--ds.load_in_4bit``, ``--model.model_name_or_path``;
  before ed62d0e2: ``--lora_rank``, ``--lora_alpha``, ``--target_modules``, ``--lora_dropout``,
  ``--load_in_4bit``, ``--pretrain``. Both hand them to ``openrlhf.models.Actor``.
- ``openrlhf/models/actor.py`` ``Actor``: ``AutoModelForCausalLM`` (``AutoModelForImageTextToText`` when the
  config has a ``vision_config``), then ``LoraConfig(task_type=CAUSAL_LM, r, lora_alpha, target_modules,
  lora_dropout, bias="none")`` and ``get_peft_model``; ``--load_in_4bit`` is ``BitsAndBytesConfig(nf4, double
  quant, bf16 compute)``.

``target_modules`` reaches PEFT as OpenRLHF's parser gives it: the default is the string ``"all-linear"``
(PEFT's shorthand); ``--target_modules all-linear`` written out is the list ``["all-linear"]``, which PEFT
reads as a module name. The other CLI modules (reward, critic and PPO models) build their own heads: refused
by name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lora_audit.config.frontends._base import Expansion, Translation
from lora_audit.config.static.shell import COMMAND_KEY
from lora_audit.config.training import from_keys
from lora_audit.errors import AuditError

if TYPE_CHECKING:
    from lora_audit.model.build import BuiltModel

NAME = "openrlhf"
#: The CLI modules whose model is OpenRLHF's Actor (a causal LM with PEFT's LoRA).
ACTOR_MODULES = ("openrlhf.cli.train_sft", "openrlhf.cli.train_dpo")
#: setting -> (the argument since ed62d0e2, the argument before), and OpenRLHF's default
ARGUMENTS: dict[str, tuple[tuple[str, str], Any]] = {
    "rank": (("ds.lora.rank", "lora_rank"), 0),
    "alpha": (("ds.lora.alpha", "lora_alpha"), 16),
    "target_modules": (("ds.lora.target_modules", "target_modules"), "all-linear"),
    "dropout": (("ds.lora.dropout", "lora_dropout"), 0),
    "load_in_4bit": (("ds.load_in_4bit", "load_in_4bit"), False),
    "model": (("model.model_name_or_path", "pretrain"), None),
}
FIELD_KEYS = {"r": "ds.lora.rank", "lora_alpha": "ds.lora.alpha", "target_modules": "ds.lora.target_modules",
              "lora_dropout": "ds.lora.dropout"}
TRAINING_KEYS: dict[str, tuple[str, ...]] = {
    "batch_size": ("train.micro_batch_size", "micro_train_batch_size"),
    "seq_len": ("data.max_len", "max_len"),
    "gradient_checkpointing": ("model.gradient_checkpointing_enable", "gradient_checkpointing"),
}


def detect(data: dict[str, Any]) -> int:
    return 40 if str(data.get(COMMAND_KEY, "")).startswith("openrlhf.") else 0


def _get(data: dict[str, Any], setting: str) -> tuple[Any, str | None]:
    (new, old), default = ARGUMENTS[setting]
    for key in (new, old):
        if key in data:
            return data[key], key
    return default, None


def translate(loaded: Any) -> Translation:
    data = loaded.data
    where = str(loaded.path)
    module = data[COMMAND_KEY]
    if module not in ACTOR_MODULES:
        raise AuditError("not-a-lora-config", f"{where} runs {module}, whose models are OpenRLHF's own (reward, "
                         "critic or PPO's several); lora-audit reads train_sft and train_dpo",
                         "audit the actor's LoRA with flags: lora-audit MODEL -r RANK --alpha ALPHA --targets ...")
    rank, rank_key = _get(data, "rank")
    if not rank:
        raise AuditError("not-a-lora-config", f"{where}: {module} without --ds.lora.rank (0, OpenRLHF's default) "
                         "trains the whole model, not a LoRA", "add --ds.lora.rank N, or audit nothing")
    alpha, alpha_key = _get(data, "alpha")
    targets, targets_key = _get(data, "target_modules")
    dropout, dropout_key = _get(data, "dropout")
    load_in_4bit, quant_key = _get(data, "load_in_4bit")
    model, model_key = _get(data, "model")
    used = {"r": rank_key, "lora_alpha": alpha_key, "target_modules": targets_key, "lora_dropout": dropout_key}
    steps = [f"{module}: Actor's LoraConfig(task_type=CAUSAL_LM, r, lora_alpha, target_modules, lora_dropout, "
             "bias='none')"]
    defaults = [f"{ARGUMENTS[s][0][0]} {ARGUMENTS[s][1]!r}" for s, key in
                (("alpha", alpha_key), ("target_modules", targets_key), ("dropout", dropout_key)) if key is None]
    if defaults:
        steps.append("OpenRLHF defaults: " + ", ".join(defaults))
    if targets == ["all-linear"]:
        steps.append("--target_modules all-linear is the list ['all-linear'], which PEFT reads as a module name, "
                     "not as its all-linear shorthand (OpenRLHF's default, the string, is)")
    fields: dict[str, Any] = {"r": rank, "lora_alpha": alpha, "lora_dropout": dropout, "bias": "none",
                              "target_modules": targets, "task_type": "CAUSAL_LM"}
    quantization = None
    if load_in_4bit:
        quantization = {"method": "bitsandbytes", "bits": 4, "source": f"{where}: --{quant_key}",
                        "settings": {"bnb_4bit_quant_type": "nf4", "bnb_4bit_use_double_quant": True,
                                     "bnb_4bit_compute_dtype": "bfloat16"}}
    return Translation(
        format=NAME,
        fields=fields,
        model=model if isinstance(model, str) else None,
        model_key=f"--{model_key}" if model_key else None,
        steps=steps,
        quantization=quantization,
        expand=_expand,
        sources={name: [key] for name, key in used.items() if key is not None},
        field_keys=FIELD_KEYS,
        all_linear_key=targets_key if targets == "all-linear" else None,
        training=from_keys(data, TRAINING_KEYS, where, {}, ("optimizer", "precision"), NAME),
    )


def _expand(built: BuiltModel) -> Expansion:
    if getattr(built.config, "vision_config", None) is not None:
        raise AuditError("not-a-lora-config", f"OpenRLHF loads {built.class_name}, a model with a vision_config, "
                         "with AutoModelForImageTextToText, which this reader does not build",
                         "audit the LoRA with flags and --model-class")
    if not built.class_name.endswith("ForCausalLM"):
        raise AuditError("not-a-lora-config", f"OpenRLHF's Actor loads AutoModelForCausalLM; {built.class_name} is "
                         "not one", "pass the causal LM as MODEL")
    return Expansion(fields={})
