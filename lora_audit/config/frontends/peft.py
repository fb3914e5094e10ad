"""PEFT's own format: a JSON/YAML file of ``LoraConfig`` fields, or a saved ``adapter_config.json``.

Any method PEFT has: a ``peft_type`` other than ``LORA`` (``LOHA``, ``IA3``...) reads the file's
keys as that method's config fields, as ``PeftConfig.from_pretrained`` does.

PEFT reads these with ``LoraConfig.from_pretrained`` / ``PeftConfig.from_peft_type``: every key
that is a ``LoraConfig`` field is taken as is (PEFT 0.21.2, ``peft/config.py``). Bookkeeping keys
of a saved adapter (``peft_type``, ``peft_version``, ``auto_mapping``, ``revision``) say nothing
about what LoRA adapts; ``base_model_name_or_path`` names the model.

A saved adapter carries ``inference_mode: true`` (``PeftModel.save_pretrained`` writes it). Training
loads it with ``PeftModel.from_pretrained(model, path, is_trainable=True)``, which sets
``inference_mode=False`` before injecting (PEFT 0.21.2, ``peft/peft_model.py``
``PeftModel.from_pretrained``): the audit does the same, so the counts are those of training, and
the report says the file was saved for inference (LA027).
"""

from __future__ import annotations

from typing import Any

from lora_audit.config import methods
from lora_audit.config.fields import lora_field_names, split_known
from lora_audit.config.frontends._base import Translation, named_model
from lora_audit.integrations import peft as private

NAME = "peft"
#: Keys that only a PEFT file has.
_OWN_KEYS = ("peft_type", "target_modules", "lora_alpha", "base_model_name_or_path", "peft_version")


def detect(data: dict[str, Any]) -> int:
    if any(k in data for k in _OWN_KEYS):
        return 2
    # Read from PEFT's source, so that deciding a file is no LoRA config at all does not import torch.
    fields = private.lora_field_names_from_source() or lora_field_names()
    return 1 if any(k in fields for k in data) else 0


def translate(loaded: Any) -> Translation:
    data = loaded.data
    # PeftConfig.from_pretrained picks the config class by peft_type (PEFT 0.21.2, peft/config.py).
    method = methods.normalise(data.get("peft_type") or methods.LORA, f"{loaded.path}: peft_type")
    known, unknown = split_known(data, str(loaded.path), method)
    steps = []
    saved_for_inference = known.get("inference_mode") is True
    if saved_for_inference:
        # As PeftModel.from_pretrained(..., is_trainable=True) does: inference_mode freezes every adapter.
        known["inference_mode"] = False
        steps.append("inference_mode: true -> false (audited as training loads it: is_trainable=True)")
    _, model_key = named_model(data, "base_model_name_or_path")
    return Translation(
        format=NAME,
        fields=known,
        method=method,
        model=data[model_key] if model_key else None,  # as saved (adapter files are not hand-written)
        model_key=model_key,
        steps=steps,
        unknown_fields=unknown,
        sources={k: [k] for k in known},
        saved_for_inference=saved_for_inference,
    )
