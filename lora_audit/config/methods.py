"""The PEFT methods lora-audit audits: every one the installed PEFT registers, read from its own table.

PEFT 0.21.2 lists its methods in ``peft.PEFT_TYPE_TO_CONFIG_MAPPING`` (``peft/mapping.py``), the
table ``get_peft_model`` and ``PeftConfig.from_pretrained`` use to turn a ``peft_type`` into a
config class. A newer PEFT that adds a method adds it here too, with no list of ours to update.

Kinds of method, as PEFT's own classes say:

- **prompt learning** (``PromptLearningConfig`` subclasses: prefix tuning, prompt tuning, P-tuning,
  multitask prompt tuning, CPT, cartridges) train virtual-token embeddings and adapt no module:
  the audit gives PEFT's counts, and no target table;
- **targeted** methods (every other config with ``target_modules``: LoRA, LoHa, LoKr, IA3, OFT,
  VeRA...) wrap the modules their entries match, with PEFT's shared matching.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

from lora_audit.errors import AuditError
from lora_audit.naming import did_you_mean

LORA = "LORA"

#: Methods that cannot be audited on a model without weights, and why (checked against PEFT 0.21.2's code).
REFUSED = {
    # peft/tuners/xlora/model.py: XLoraModel loads the trained LoRA adapters named in adapters= and mixes them
    "XLORA": "X-LoRA mixes LoRA adapters that are already trained (its adapters= field): audit each of those "
             "adapters with --config instead",
}


def names() -> list[str]:
    """Every ``peft_type`` the installed PEFT can build, in PEFT's order."""
    return list(_table())


@functools.cache
def _table() -> dict[str, Any]:
    from peft import PEFT_TYPE_TO_CONFIG_MAPPING

    return {str(getattr(key, "value", key)): cls for key, cls in PEFT_TYPE_TO_CONFIG_MAPPING.items()}


def normalise(name: Any, where: str) -> str:
    """``loha`` / ``LoHa`` / ``ln-tuning`` -> PEFT's ``peft_type`` (``LOHA``, ``LN_TUNING``), or a one-line error."""
    text = str(getattr(name, "value", name)).strip().upper().replace("-", "_")
    if text in _table():
        if text in REFUSED:
            raise AuditError("method-not-auditable", f"{where}: {text} cannot be audited on its own",
                             REFUSED[text])
        return text
    close = did_you_mean(text, names())
    raise AuditError(
        "unknown-method",
        f"{where}: {str(name)[:60]!r} is not a PEFT method the installed PEFT knows",
        f"did you mean {close[0].lower()}?" if close else
        f"use one of {', '.join(n.lower() for n in names() if n not in REFUSED)}",
    )


def by_class_name(name: str) -> str | None:
    """``LoHaConfig`` -> ``LOHA``: the method whose config class has this name (None: no such class)."""
    return next((method for method, cls in _table().items() if cls.__name__ == name), None)


def config_class(method: str) -> Any:
    return _table()[method]


def field_names(method: str) -> set[str]:
    """The fields of the method's config class (``LoHaConfig``...), as PEFT declares them."""
    return {f.name for f in dataclasses.fields(config_class(method))}


def is_prompt_learning(method: str) -> bool:
    """Prefix, prompt and P-tuning and their kin: virtual tokens, no module adapted."""
    from peft import PromptLearningConfig

    return issubclass(config_class(method), PromptLearningConfig)


def label(method: str) -> str:
    """The method as its config class spells it: ``LoHa`` for LOHA, ``IA3``, ``VeRA``; ``LoRA`` (not ``Lora``)."""
    if method == LORA:
        return "LoRA"
    name = config_class(method).__name__
    return name.removesuffix("Config") or method


#: The per-layer cost of a method's adapter, in the terms of the table's k (in), d (out) and r, where the
#: method's own layer code makes it a closed formula (PEFT 0.21.2, each tuner's ``layer.py`` ``update_layer``).
#: Every formula here is tested against the parameters PEFT creates; methods not listed show PEFT's count only.
FORMULAS = {
    "LORA": "r·(d+k)",
    # loha/layer.py: hada_w1_a (d, r), hada_w1_b (r, k), hada_w2_a (d, r), hada_w2_b (r, k) for a Linear
    "LOHA": "2·r·(d+k)",
    # ia3/layer.py: ia3_l (1, k) on a feed-forward module, (d, 1) otherwise
    "IA3": "d (k in feed-forward)",
    # vera/layer.py: vera_lambda_b (d), vera_lambda_d (r); vera_A / vera_B are shared frozen buffers
    "VERA": "d+r",
}
