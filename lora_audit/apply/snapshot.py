"""The base model's module tree, recorded before PEFT touches it: names, types, shapes, tied weights."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from lora_audit.integrations.transformers import keep_in_fp32_modules
from lora_audit.measure.quantization.classify import default_skips

if TYPE_CHECKING:
    from torch import nn


@dataclass
class Snapshot:
    """The base model's module tree before PEFT touched it."""

    names: list[str]  #: named_modules() order, without duplicates
    all_names: list[str]  #: named_modules(remove_duplicate=False): what PEFT's modules_to_save logic walks
    types: dict[str, str]
    params: dict[str, int]  #: parameters owned directly by each module (not de-duplicated)
    subtree_params: dict[str, int]  #: parameters of each module with its children (not de-duplicated)
    shapes: dict[str, list[int] | None]
    direct_parameters: dict[str, dict[str, list[int]]]
    leaves: set[str]
    parameter_names: list[str]
    tied: list[list[str]]
    base_params: int
    #: modules transformers' quantizers keep in full precision by default (get_keys_to_not_convert)
    quantizer_default_skips: list[str] = field(default_factory=list)
    #: the model class's ``_keep_in_fp32_modules``: transformers' quantizers skip these too
    keep_in_fp32_modules: list[str] = field(default_factory=list)


def snapshot(model: nn.Module) -> Snapshot:
    """Record the module tree (names, types, parameter shapes, tied weights) before injection."""
    names, types, params, shapes, direct, leaves = [], {}, {}, {}, {}, set()
    for name, module in model.named_modules():
        names.append(name)
        types[name] = type(module).__name__
        own = dict(module.named_parameters(recurse=False))
        params[name] = sum(p.numel() for p in own.values())
        weight = own.get("weight")
        shapes[name] = list(weight.shape) if weight is not None else None
        direct[name] = {k: list(p.shape) for k, p in own.items()}
        if not any(True for _ in module.children()):
            leaves.add(name)
    by_tensor: dict[int, list[str]] = {}
    for pname, p in model.named_parameters(remove_duplicate=False):
        by_tensor.setdefault(id(p), []).append(pname)
    subtree = dict(params)
    for name in reversed(names):  # children come after their parent in named_modules()
        if name:
            parent = name.rpartition(".")[0]
            if parent in subtree:
                subtree[parent] += subtree[name]
    return Snapshot(
        names=names,
        all_names=[n for n, _ in model.named_modules(remove_duplicate=False)],
        types=types,
        params=params,
        subtree_params=subtree,
        shapes=shapes,
        direct_parameters=direct,
        leaves=leaves,
        parameter_names=[n for n, _ in model.named_parameters()],
        tied=[group for group in by_tensor.values() if len(group) > 1],
        base_params=sum(p.numel() for p in model.parameters()),
        quantizer_default_skips=default_skips(model),
        keep_in_fp32_modules=keep_in_fp32_modules(model),
    )
