"""Suggestions for names that match nothing: near spellings, and the same role under another naming family.

Model families name the same projection differently (GPT-2 ``c_attn``, Llama ``q_proj``, BERT
``query``, T5 ``q``, Falcon ``query_key_value``, Phi-3 ``qkv_proj``). A tutorial's names copied to
another family match nothing; the fix is the role's name in *this* model, which this table finds.
"""

from __future__ import annotations

from lora_audit.naming import did_you_mean, leaf
from lora_audit.report import Report

#: Roles of the linear layers LoRA usually targets, and the names families give them.
ROLES: dict[str, tuple[str, ...]] = {
    "qkv": ("c_attn", "query_key_value", "qkv_proj", "Wqkv", "qkv", "in_proj", "W_pack"),
    "q": ("q_proj", "query", "q", "q_lin", "query_proj", "q_a_proj", "q_b_proj"),
    "k": ("k_proj", "key", "k", "k_lin", "key_proj"),
    "v": ("v_proj", "value", "v", "v_lin", "value_proj"),
    "kv": ("kv_a_proj_with_mqa", "kv_b_proj", "kv_proj"),
    "o": ("o_proj", "out_proj", "o", "out_lin", "c_proj", "dense", "proj", "dense_proj"),
    "gate": ("gate_proj", "w1", "wi_0"),
    "up": ("up_proj", "fc1", "c_fc", "wi", "wi_1", "dense_h_to_4h", "w3", "gate_up_proj", "lin1", "fc_in"),
    "down": ("down_proj", "fc2", "c_proj", "wo", "dense_4h_to_h", "w2", "lin2", "fc_out"),
}
#: When a role has no name in the model, the roles that cover it (fused q/k/v, or split q/k/v).
FALLBACK: dict[str, tuple[str, ...]] = {
    "qkv": ("q", "k", "v"),
    "q": ("qkv",),
    "k": ("qkv", "kv"),
    "v": ("qkv", "kv"),
    "gate": ("up",),
    "up": ("gate",),
}
ADAPTABLE_TYPES = {
    "Linear", "Conv1D", "Conv1d", "Conv2d", "Conv3d", "Embedding", "FalconLinear",
    "NonDynamicallyQuantizableLinear", "MultiheadAttention",
}


def adaptable_leaf_names(report: Report) -> set[str]:
    return {leaf(m.name) for m in report.modules if m.name and m.type in ADAPTABLE_TYPES}


def all_names(report: Report) -> set[str]:
    names: set[str] = set()
    for m in report.modules:
        if m.name:
            names.add(m.name)
            names.add(leaf(m.name))
    return names


def role_suggestions(name: str, present: set[str]) -> list[str]:
    """Names in ``present`` that play the role ``name`` plays in other families."""
    tail = leaf(name)
    roles = [role for role, names in ROLES.items() if tail in names]
    found: list[str] = []
    for role in roles:
        hits = [n for n in ROLES[role] if n in present and n != tail]
        if not hits:
            for other in FALLBACK.get(role, ()):
                hits += [n for n in ROLES[other] if n in present and n != tail]
        found += [h for h in hits if h not in found]
    return found


def suggest_targets(name: str, report: Report) -> list[str]:
    """Did-you-mean for a target entry.

    A known name from another family (``c_attn``) gets this family's name for the same role
    (``q_proj, k_proj, v_proj``); anything else gets close spellings (``q_poj`` -> ``q_proj``).
    """
    present = adaptable_leaf_names(report)
    by_role = role_suggestions(name, present)
    if by_role:
        return by_role
    if "." in name:
        return dotted_suggestions(name, report)
    return did_you_mean(name, present)


def dotted_suggestions(name: str, report: Report) -> list[str]:
    """Did-you-mean for a dotted entry (``ff.0``): the adaptable modules' name tails that start where it does.

    PEFT matches ``ff.0`` against whole dotted suffixes, so a near spelling of the last part is no
    fix. The tails beginning at the entry's first part (``ff.net.0.proj``, ``ff.net.2`` in Flux)
    are; the ones that keep every part of the entry in order come first.
    """
    parts = name.split(".")
    tails: list[str] = []
    for module in report.modules:
        if not module.name or module.type not in ADAPTABLE_TYPES:
            continue
        pieces = module.name.split(".")
        for start, piece in enumerate(pieces):
            if piece == parts[0]:
                tail = ".".join(pieces[start:])
                if tail != name and tail not in tails:
                    tails.append(tail)
    if not tails:
        return did_you_mean(name, {".".join(m.name.split(".")[-len(parts):]) for m in report.modules
                                   if m.name and m.type in ADAPTABLE_TYPES})
    return sorted(tails, key=lambda tail: (not _in_order(parts, tail.split(".")), len(tail)))


def _in_order(parts: list[str], pieces: list[str]) -> bool:
    found = iter(pieces)
    return all(part in found for part in parts)
