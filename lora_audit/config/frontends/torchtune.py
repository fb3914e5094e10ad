"""torchtune's LoRA recipe YAML (``tune run lora_finetune_single_device --config ...``), mapped onto HF.

torchtune builds its own model and its own LoRA layers (``torchtune.modules.peft.LoRALinear``), not
PEFT's. Read at torchtune 0.6.1 (PyPI), the version the tests install:

- the recipe's ``model:`` section is the keyword arguments of a builder such as
  ``torchtune.models.llama3.lora_llama3_8b(lora_attn_modules, apply_lora_to_mlp=False,
  apply_lora_to_output=False, lora_rank=8, lora_alpha=16, lora_dropout=0.0, use_dora=False,
  quantize_base=False)``; ``qlora_*`` builders are the same with ``quantize_base=True``;
  ``config.instantiate`` passes them as they are, so an unknown key is the builder's ``TypeError``;
- ``torchtune/models/convert_weights.py`` ``_FROM_HF`` names each torchtune module after the HF module it
  loads: ``attn.q_proj`` / ``k_proj`` / ``v_proj`` are HF's, ``attn.output_proj`` is ``o_proj``,
  ``mlp.w1`` / ``w2`` / ``w3`` are ``gate_proj`` / ``down_proj`` / ``up_proj`` (``apply_lora_to_mlp``
  adapts all three), ``output`` is ``lm_head``;
- a ``LoRALinear`` on an ``in -> out`` projection has ``lora_a`` (r x in) and ``lora_b`` (out x r): the
  r·(d+k) PEFT's LoRA has on the same HF Linear. So the audit applies the mapped names with PEFT on the
  HF model; a test builds torchtune's own model and compares every count.

Where torchtune's modules are not HF's (Phi-3: torchtune splits HF's fused ``qkv_proj`` and
``gate_up_proj``, ``torchtune/models/phi3/_convert_weights.py``), a LoRA on torchtune's ``q_proj`` is a
LoRA on a slice of an HF layer, which PEFT cannot express: the audit refuses and says so, rather than
report a wrong count or an LA001 for a name that exists in torchtune's model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lora_audit.config.frontends._base import Translation
from lora_audit.config.other_trainers import TORCHTUNE_LORA_BUILDER
from lora_audit.errors import AuditError
from lora_audit.naming import did_you_mean

if TYPE_CHECKING:
    from lora_audit.config.loading import LoadedFile

NAME = "torchtune"
SECTION = "model"

#: Families whose modules are HF's one to one (convert_weights._FROM_HF), and the builder arguments of each
#: (torchtune 0.6.1 signatures; gemma, gemma2 and qwen2 have no apply_lora_to_output).
_COMMON = ("lora_attn_modules", "apply_lora_to_mlp", "lora_rank", "lora_alpha", "lora_dropout", "use_dora",
           "quantize_base")
FAMILIES: dict[str, tuple[str, ...]] = {
    "llama2": (*_COMMON, "apply_lora_to_output"), "llama3": (*_COMMON, "apply_lora_to_output"),
    "llama3_1": (*_COMMON, "apply_lora_to_output"),
    "llama3_2": (*_COMMON, "apply_lora_to_output", "tie_word_embeddings"),
    "mistral": (*_COMMON, "apply_lora_to_output"), "qwen2_5": (*_COMMON, "apply_lora_to_output"),
    "qwen2": _COMMON, "gemma": _COMMON, "gemma2": _COMMON,
}
#: Families whose torchtune modules split an HF layer, and how.
SPLIT = {"phi3": "torchtune's Phi-3 splits HF's fused qkv_proj into q_proj, k_proj, v_proj and gate_up_proj into "
                 "w1, w3 (torchtune/models/phi3/_convert_weights.py)"}
DEFAULTS: dict[str, Any] = {"apply_lora_to_mlp": False, "apply_lora_to_output": False, "lora_rank": 8,
                            "lora_alpha": 16, "lora_dropout": 0.0, "use_dora": False, "quantize_base": False}
#: torchtune module name -> the HF module it loads (convert_weights._FROM_HF).
ATTENTION = {"q_proj": "q_proj", "k_proj": "k_proj", "v_proj": "v_proj", "output_proj": "o_proj"}
MLP = {"w1": "gate_proj", "w2": "down_proj", "w3": "up_proj"}
OUTPUT = {"output": "lm_head"}

FIELD_KEYS = {"r": "lora_rank", "lora_alpha": "lora_alpha", "lora_dropout": "lora_dropout",
              "target_modules": "lora_attn_modules", "use_dora": "use_dora"}


def builder(data: dict[str, Any]) -> tuple[str, str, str] | None:
    """``(family, lora|qlora, size)`` of the recipe's ``model._component_``, when it is a LoRA builder."""
    model = data.get("model")
    component = model.get("_component_") if isinstance(model, dict) else None
    match = TORCHTUNE_LORA_BUILDER.match(component) if isinstance(component, str) else None
    return (match.group(1), match.group(2), match.group(3)) if match else None


def detect(data: dict[str, Any]) -> int:
    return 40 if builder(data) is not None else 0


def translate(loaded: LoadedFile) -> Translation:
    data = loaded.data
    where = str(loaded.path)
    family, kind, size = builder(data) or ("", "", "")
    component = data["model"]["_component_"]
    if family in SPLIT:
        raise AuditError(
            "not-a-lora-config",
            f"{where}: {component}: {SPLIT[family]}, so its LoRA on q_proj adapts a slice of an HF layer, which "
            "PEFT cannot express: lora-audit does not count it",
            "audit the HF model's own names instead: lora-audit MODEL --targets qkv_proj,o_proj,...",
        )
    if family not in FAMILIES or size.endswith(("classifier", "reward_7b")) or "reward" in size:
        raise AuditError(
            "not-a-lora-config",
            f"{where}: {component} is a torchtune builder lora-audit does not map onto an HF model yet",
            "audit the same LoRA with flags: lora-audit MODEL -r RANK --alpha ALPHA --targets ...",
        )
    section = {k: v for k, v in data["model"].items() if k != "_component_"}
    allowed = FAMILIES[family]
    for key in section:
        if key not in allowed:
            close = did_you_mean(key, sorted(allowed))
            raise AuditError(
                "invalid-lora-config",
                f"{where}: model.{key}: {component}() has no argument {key!r} (torchtune raises TypeError)",
                f"did you mean {close[0]}?" if close else f"its arguments are: {', '.join(allowed)}",
            )
    if "lora_attn_modules" not in section:
        raise AuditError("invalid-lora-config", f"{where}: {component}() needs lora_attn_modules",
                         "list them, e.g. lora_attn_modules: [q_proj, v_proj, output_proj]")
    args = {**DEFAULTS, "quantize_base": kind == "qlora", **section}
    attn = args["lora_attn_modules"]
    if not isinstance(attn, list) or any(m not in ATTENTION for m in attn):
        bad = next((m for m in (attn if isinstance(attn, list) else [attn]) if m not in ATTENTION), attn)
        raise AuditError("invalid-lora-value", f"{where}: lora_attn_modules: {bad!r} is not one of torchtune's "
                         f"{', '.join(ATTENTION)}", "use q_proj, k_proj, v_proj, output_proj")
    if args["apply_lora_to_output"] and family == "llama3_2" and args.get("tie_word_embeddings", True):
        raise AuditError("invalid-lora-config", f"{where}: apply_lora_to_output with {component}: torchtune "
                         "refuses it (the output projection is tied to the embeddings)", "remove apply_lora_to_output")
    names = [ATTENTION[m] for m in attn]
    renamed = ", ".join(f"{m} -> {ATTENTION[m]}" for m in attn if m != ATTENTION[m])
    steps = [f"{component}: torchtune's own LoRALinear layers, on the HF modules convert_weights maps them to"
             + (f": {renamed}" if renamed else "")]
    if args["apply_lora_to_mlp"]:
        names += list(MLP.values())
        steps.append("apply_lora_to_mlp -> w1, w2, w3 = gate_proj, down_proj, up_proj")
    if args["apply_lora_to_output"]:
        names.append(OUTPUT["output"])
        steps.append("apply_lora_to_output -> output = lm_head")
    if args["quantize_base"]:
        steps.append(f"{'qlora_ builder' if kind == 'qlora' else 'quantize_base'}: torchtune stores the frozen "
                     "base in torchao NF4 (not modelled; the counts are logical)")
    fields = {"r": args["lora_rank"], "lora_alpha": args["lora_alpha"], "lora_dropout": args["lora_dropout"],
              "use_dora": args["use_dora"], "target_modules": names, "bias": "none", "task_type": "CAUSAL_LM"}
    sources = {name: [key] for name, key in FIELD_KEYS.items() if key in section}
    sources["target_modules"] = [k for k in ("lora_attn_modules", "apply_lora_to_mlp", "apply_lora_to_output")
                                 if k in section]
    return Translation(format=NAME, fields=fields, steps=steps, sources=sources)
