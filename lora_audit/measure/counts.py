"""Read counts off the adapted model, as plain records.

Totals come from PEFT's ``get_nb_trainable_parameters()``; the breakdown, the per-layer
r·(d+k) rows and the tree diff are read off the modules PEFT created, never recomputed from a
formula. After this stage nothing holds a torch object.
"""

from __future__ import annotations

import re
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from lora_audit.apply.adapt import ADAPTER, Adaptation, Snapshot
from lora_audit.config.methods import LORA
from lora_audit.integrations.peft import adapter_prefix, is_peft_wrapper, moe_conversion_table, pattern_key, type_label
from lora_audit.report import (
    AdaptedModule,
    BiasParams,
    BlockCoverage,
    ModelInfo,
    ModuleNode,
    ParamCounts,
    TargetMatch,
    WrappedModule,
)

#: ``adapter``: the parameters of a method other than LoRA (LoHa's hada_*, IA3's ia3_l, a prompt encoder)
BREAKDOWN_KEYS = ("lora", "dora_magnitude", "adapter", "bias", "modules_to_save", "trainable_tokens", "other")
#: Leaf types that LoRA adapts as "linear" (coverage counts these per block).
LINEAR_TYPES = {"Linear", "Conv1D", "FalconLinear", "NonDynamicallyQuantizableLinear"}
_LORA_NAMES = re.compile(r"\.(lora_A|lora_B|lora_embedding_A|lora_embedding_B)\.")


def model_info(name: str, source: Any, built: Any, snap: Snapshot) -> ModelInfo:
    config = built.config
    text_config = getattr(config, "get_text_config", lambda: config)() if config is not None else None
    num_layers = None
    # diffusers' num_layers counts one kind of block only (Flux: 19 double, plus 38 single): not "the" layers.
    for attr in ("num_hidden_layers", "n_layer", "num_layers") if built.library != "diffusers" else ():
        value = getattr(text_config, attr, None)
        if isinstance(value, int):
            num_layers = value
            break
    return ModelInfo(
        name=name,
        source=source.description if source is not None else "in-memory nn.Module",
        source_kind=source.kind if source is not None else "module",
        revision=getattr(source, "revision", None),
        model_type=built.model_type,
        class_name=built.class_name,
        base_params=snap.base_params,
        num_layers=num_layers,
        tie_word_embeddings=bool(getattr(text_config, "tie_word_embeddings", False)),
        tied_weights=[sorted(g) for g in snap.tied],
        architectures=list(getattr(config, "architectures", None) or []),
        is_encoder_decoder=bool(getattr(config, "is_encoder_decoder", False)),
        fused_expert_parameters=fused_expert_parameters(snap),
        moe_v4_names=moe_conversion_table(built.model_type),
        library=getattr(built, "library", "transformers"),
        library_version=_library_version(getattr(built, "library", "transformers")),
        component=getattr(source, "component", None),
    )


def fused_expert_parameters(snap: Snapshot) -> list[str]:
    """MoE experts fused into one parameter (transformers 5: ``mlp.experts.gate_up_proj`` (E, 2I, H)).

    A parameter of three or more dimensions held by an experts module (its name or class says
    "expert": ``MixtralExperts``, ``GraniteMoeParallelExperts``...). Other 3-D parameters are not
    experts: a ViT's ``cls_token`` / ``pos_embed`` (1, N, D), Wan's ``scale_shift_table`` (1, 6, D),
    convolution kernels.
    """
    found: list[str] = []
    for owner, params in snap.direct_parameters.items():
        kind = snap.types[owner]
        if kind.startswith("Conv") or "expert" not in f"{owner.rsplit('.', 1)[-1]} {kind}".lower():
            continue
        found.extend(f"{owner}.{pname}" if owner else pname for pname, shape in params.items() if len(shape) >= 3)
    return found


def _library_version(library: str) -> str | None:
    try:
        return version(library)
    except PackageNotFoundError:
        return None


def module_tree(snap: Snapshot) -> list[ModuleNode]:
    return [
        ModuleNode(
            name=n,
            type=snap.types[n],
            params=snap.params[n],
            shape=snap.shapes[n],
            leaf=n in snap.leaves,
            parameters=snap.direct_parameters[n],
        )
        for n in snap.names
    ]


def param_counts(adaptation: Adaptation) -> ParamCounts:
    base = adaptation.snapshot.base_params
    breakdown = dict.fromkeys(BREAKDOWN_KEYS, 0)
    pm = adaptation.peft_model
    if pm is None:
        return ParamCounts(base, base, 0, base, 0.0, breakdown)
    trainable, total = pm.get_nb_trainable_parameters()
    method = _method(adaptation)
    prefix = adapter_prefix(method) if method != LORA else None
    for name, p in pm.named_parameters():
        if p.requires_grad:
            breakdown[_category(name, prefix)] += p.numel()
    # get_nb_trainable_parameters has special cases (4-bit, DeepSpeed); keep the totals PEFT's.
    breakdown["other"] += trainable - sum(breakdown.values())
    percent = round(100 * trainable / total, 4) if total else 0.0
    return ParamCounts(base, total, trainable, total - trainable, percent, breakdown)


def _category(name: str, prefix: str | None = None) -> str:
    # Another method's layers name their parameters with the tuner's prefix (PEFT's BaseTuner.prefix);
    # a prompt-learning method keeps its virtual tokens in prompt_encoder.
    if (prefix and f".{prefix}" in name) or name.startswith("prompt_encoder."):
        return "adapter"
    if ".lora_magnitude_vector." in name:
        return "dora_magnitude"
    if _LORA_NAMES.search(name):
        return "lora"
    if ".modules_to_save." in name:
        return "modules_to_save"
    if "trainable_tokens_delta" in name:
        return "trainable_tokens"
    if name.endswith(".bias"):
        return "bias"
    return "other"


def adapted_modules(adaptation: Adaptation) -> list[AdaptedModule]:
    """One row per LoRA layer PEFT created (a fused MoE parameter counts as one row)."""
    from peft.tuners.lora import LoraLayer
    from peft.tuners.tuners_utils import BaseTunerLayer

    rows = []
    lora = adaptation.peft_model is None or _method(adaptation) == LORA
    shared: set[int] = set()  # a tensor several layers hold (VB-LoRA's bank, tied trainable tokens): counted once
    for name, module in adaptation.after.items():
        if lora:
            if isinstance(module, LoraLayer) and ADAPTER in module.r:
                rows.append(_row(name, module))
        elif isinstance(module, BaseTunerLayer):
            tensors = _adapter_tensors(module)
            if tensors:
                rows.append(_method_row(name, module, tensors, shared))
    return rows


def _method(adaptation: Adaptation) -> str:
    return str(getattr(adaptation.final_config.peft_type, "value", LORA))


def _adapter_tensors(module: Any) -> list[Any]:
    """The tensors a tuner layer created for the adapter: its ``adapter_layer_names`` entries (PEFT's own list).

    Each tensor once: methods that share one tensor among layers (VB-LoRA's vector bank) hold the same object.
    """
    import torch

    seen: dict[int, Any] = {}
    for attr in getattr(module, "adapter_layer_names", ()):
        holder = getattr(module, attr, None)
        if holder is None or ADAPTER not in holder:
            continue
        item = holder[ADAPTER]
        tensors = [item] if isinstance(item, torch.Tensor) else list(item.parameters())
        for t in tensors:
            seen.setdefault(id(t), t)
    return list(seen.values())


def _method_row(name: str, module: Any, held: list[Any], shared: set[int]) -> AdaptedModule:
    """A row of another method's layer: its adapter tensors (``held``) as PEFT created them, against d·k.

    A tensor an earlier row already holds is not counted again, so the rows add up to what trains.
    """
    tensors = [t for t in held if t.requires_grad and id(t) not in shared]
    shared.update(id(t) for t in tensors)
    base = module.get_base_layer()
    weight = getattr(base, "weight", None)
    shape = tuple(weight.shape) if weight is not None else ()
    out_features = getattr(module, "out_features", None) or (shape[0] if shape else 0)
    in_features = getattr(module, "in_features", None) or (shape[1] if len(shape) > 1 else 0)
    rank = getattr(module, "r", None)
    alpha = getattr(module, "alpha", None) or getattr(module, "lora_alpha", None)
    scaling = getattr(module, "scaling", None)
    return AdaptedModule(
        name=name,
        kind=type_label(type(module)),
        base_type=type(base).__name__,
        in_features=int(in_features),
        out_features=int(out_features),
        r=_int_of(rank),
        alpha=_number(alpha[ADAPTER]) if isinstance(alpha, dict) and ADAPTER in alpha else None,
        scaling=float(scaling[ADAPTER]) if isinstance(scaling, dict) and isinstance(scaling.get(ADAPTER),
                                                                                    (int, float)) else None,
        experts=1,
        lora_params=sum(t.numel() for t in tensors),
        dense_params=int(weight.numel()) if weight is not None else 0,
        kernel_size=_kernel_size(base),
    )


def _int_of(rank: Any) -> int | None:
    value = rank.get(ADAPTER) if isinstance(rank, dict) else None
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else None


def _row(name: str, module: Any) -> AdaptedModule:
    kind = type_label(type(module))
    base = module.get_base_layer()
    parameter_name = getattr(module, "parameter_name", None)
    if parameter_name:
        display = re.sub(r"(\.base_layer)+$", "", name) + "." + parameter_name
        weight = getattr(base, parameter_name)
        experts = int(getattr(module, "num_experts", 1) or 1)
    else:
        display = name
        weight = getattr(base, "weight", None)
        experts = 1
    lora_params = 0
    for container in ("lora_A", "lora_B", "lora_embedding_A", "lora_embedding_B"):
        holder = getattr(module, container, {})
        if ADAPTER in holder:
            item = holder[ADAPTER]
            lora_params += item.numel() if hasattr(item, "numel") else sum(p.numel() for p in item.parameters())
    magnitude = getattr(module, "lora_magnitude_vector", {})
    dora_params = sum(p.numel() for p in magnitude[ADAPTER].parameters()) if ADAPTER in magnitude else 0
    return AdaptedModule(
        name=display,
        kind=kind,
        base_type=type(base).__name__,
        in_features=int(module.in_features),
        out_features=int(module.out_features),
        r=int(module.r[ADAPTER]),
        alpha=_number(module.lora_alpha[ADAPTER]),
        scaling=float(module.scaling[ADAPTER]),
        experts=experts,
        lora_params=lora_params,
        dense_params=int(weight.numel()) if weight is not None else 0,
        dora_params=dora_params,
        use_dora=bool(getattr(module, "use_dora", {}).get(ADAPTER, False)),
        fan_in_fan_out=bool(getattr(module, "fan_in_fan_out", False)),
        kernel_size=_kernel_size(base),
    )


def _kernel_size(base: Any) -> list[int] | None:
    size = getattr(base, "kernel_size", None)  # nn.Conv1d/2d/3d: a tuple of ints
    if isinstance(size, tuple) and all(isinstance(x, int) for x in size):
        return list(size)
    return None


def _number(value: Any) -> float | int:
    return int(value) if float(value).is_integer() else float(value)


def pattern_matches(adaptation: Adaptation, rows: list[AdaptedModule], lora_config: dict) -> dict:
    """For each user rank_pattern / alpha_pattern key, the adapted modules it sets (PEFT's get_pattern_key).

    Keys are tried in PEFT's order, so a key shadowed by an earlier one sets nothing.
    """
    final = adaptation.final_config
    out: dict[str, dict[str, list[str]]] = {}
    for attr in ("rank_pattern", "alpha_pattern"):
        user_keys = list((lora_config.get(attr) or {}).keys())
        if not user_keys:
            continue
        all_keys = list((getattr(final, attr, None) or {}).keys()) or user_keys
        hits: dict[str, list[str]] = {k: [] for k in user_keys}
        for row in rows:
            key = pattern_key(all_keys, row.name)
            if key in hits:
                hits[key].append(row.name)
        out[attr] = hits
    return out


def bias_params(adaptation: Adaptation, rows: list[AdaptedModule]) -> BiasParams:
    """Base-layer biases that train (bias="all"/"lora_only"), split by whether their module is adapted."""
    out = BiasParams()
    pm = adaptation.peft_model
    if pm is None:
        return out
    adapted = {r.name for r in rows}
    outside: list[str] = []
    for name, p in pm.get_base_model().named_parameters():
        if not p.requires_grad or _category("." + name) != "bias":
            continue
        owner = re.sub(r"\.base_layer(?=\.|$)", "", name.rsplit(".", 1)[0])
        if owner in adapted:
            out.in_adapted += p.numel()
        else:
            out.outside_adapted += p.numel()
            outside.append(owner)
    out.outside_modules = outside
    return out


def wrapped_modules(adaptation: Adaptation) -> list[WrappedModule]:
    """Tree diff: every module whose type PEFT changed, with what it wrapped and what it adds."""
    snap = adaptation.snapshot
    out = []
    for name in snap.names:
        module = adaptation.after.get(name)
        # lora.Linear is also called "Linear": compare by what PEFT made, not by class name.
        if not name or not is_peft_wrapper(module):
            continue
        # the isinstance above names PEFT's layer classes; the module itself is the nn.Module it wraps with
        after_params = sum(p.numel() for p in adaptation.after[name].parameters())
        out.append(
            WrappedModule(
                name=name,
                new_type=type_label(type(module)),
                wrapped_type=snap.types[name],
                wrapped_shape=snap.shapes[name],
                added_params=after_params - snap.subtree_params[name],
            )
        )
    return out


def coverage(snap: Snapshot, targets: list[TargetMatch]) -> list[BlockCoverage]:
    """Per repeated block (``model.layers.N``): how many modules each target entry adapted there."""
    lists = {n for n in snap.names if snap.types[n] == "ModuleList"}
    blocks: dict[str, tuple[str, int]] = {}  # "model.layers.3" -> ("model.layers", 3)
    for name in snap.names:
        parent, _, index = name.rpartition(".")
        if parent in lists and index.isdigit():
            blocks[name] = (parent, int(index))
    per_container: dict[str, int] = {}
    for container, _ in blocks.values():
        per_container[container] = per_container.get(container, 0) + 1
    blocks = {b: v for b, v in blocks.items() if per_container[v[0]] >= 2}
    # Only outermost containers: a ModuleList inside a block (T5's block.N.layer, per-expert lists)
    # is part of that block, not a stack of blocks of its own.
    blocks = {b: v for b, v in blocks.items() if not _enclosing(v[0], blocks)}

    linear: dict[str, int] = dict.fromkeys(blocks, 0)
    for name in snap.leaves:
        if snap.types[name] in LINEAR_TYPES:
            for block in _enclosing(name, blocks):
                linear[block] += 1
    adapted: dict[str, dict[str, int]] = {b: dict.fromkeys((t.pattern for t in targets), 0) for b in blocks}
    for t in targets:
        for module in t.modules:
            for block in _enclosing(module, blocks):
                adapted[block][t.pattern] += 1
    return [
        BlockCoverage(container=c, index=i, block_type=snap.types[b], adapted=adapted[b], linear_modules=linear[b])
        for b, (c, i) in blocks.items()
    ]


def _enclosing(name: str, blocks: dict[str, tuple[str, int]]) -> list[str]:
    parts = name.split(".")
    return [p for p in (".".join(parts[:end]) for end in range(1, len(parts))) if p in blocks]
