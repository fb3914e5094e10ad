"""``lora-audit diff A B``: two adapters, or two LoRA configs, side by side.

Which config fields differ, which modules each adapts, how many parameters each holds (the file's
tensor table, or PEFT's trainable count on ``--base``), and the keys whose shapes differ. Answers
"why is my re-trained adapter twice the size". Only configs and safetensors headers are read.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from lora_audit.adapter.compare import PREFIX, role_of
from lora_audit.adapter.header import TensorTable
from lora_audit.adapter.source import MLX_NAME, PICKLE_NAME, SAFETENSORS_NAME, load_adapter
from lora_audit.config import frontends
from lora_audit.config.loading import load_config_file
from lora_audit.model.local import path_exists, user_path
from lora_audit.naming import fold, template
from lora_audit.pipeline import audit
from lora_audit.report import plain
from lora_audit.request import AuditRequest

#: Fields that say where or when an adapter was saved, not what it adapts.
BOOKKEEPING = {"base_model_name_or_path", "revision", "peft_version", "auto_mapping", "inference_mode"}


@dataclass
class Side:
    spec: str
    kind: str  #: adapter | config
    config: dict[str, Any]
    table: TensorTable | None = None
    trainable: int | None = None  #: PEFT's count on --base


@dataclass
class AdapterDiff:
    a: Side
    b: Side
    #: field -> (value in A, value in B), fields that differ only
    fields: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    same_fields: int = 0
    modules_a: list[str] = field(default_factory=list)
    modules_b: list[str] = field(default_factory=list)
    #: folded key -> (shape in A, shape in B)
    shapes: dict[str, tuple[list[int], list[int]]] = field(default_factory=dict)
    only_a: list[str] = field(default_factory=list)
    only_b: list[str] = field(default_factory=list)

    @property
    def differs(self) -> bool:
        """Anything at all differs: a field, the adapted modules, a shape, a tensor, the trainable count."""
        return bool(self.fields or self.modules_a != self.modules_b or self.shapes or self.only_a or self.only_b
                    or self.a.trainable != self.b.trainable)

    def to_dict(self) -> dict[str, Any]:
        def side(s: Side) -> dict[str, Any]:
            return {"spec": s.spec, "kind": s.kind, "tensors": None if s.table is None else len(s.table.tensors),
                    "params": params(s), "trainable": s.trainable}

        return {
            "a": side(self.a), "b": side(self.b),
            "fields": {k: {"a": plain(v[0]), "b": plain(v[1])} for k, v in self.fields.items()},
            "same_fields": self.same_fields,
            "modules": {"a": self.modules_a, "b": self.modules_b},
            "shapes": {k: {"a": v[0], "b": v[1]} for k, v in self.shapes.items()},
            "only_a": self.only_a, "only_b": self.only_b,
        }


def params(side: Side) -> int | None:
    return None if side.table is None else sum(math.prod(s) for _d, s in side.table.tensors.values())


def load_side(spec: str, offline: bool | None = None) -> Side:
    """An adapter (directory with weights, .safetensors file, hub id) or a LoRA config file."""
    path = user_path(spec)
    is_adapter = not path_exists(path) or path.suffix.lower() in (".safetensors", ".bin") or (
        path.is_dir() and any((path / n).is_file() for n in (SAFETENSORS_NAME, PICKLE_NAME, MLX_NAME))
    )
    if is_adapter:
        found = load_adapter(spec, offline=offline)
        return Side(spec, "adapter", found.lora_fields or found.config, found.table)
    # Read as the framework that owns the file reads it (PEFT, or another front-end): its LoraConfig fields.
    translation = frontends.translate(load_config_file(path))
    return Side(spec, "config", dict(translation.fields))


def _normal(value: Any) -> Any:
    if isinstance(value, (list, tuple, set)) and all(isinstance(v, str) for v in value):
        return sorted(set(value))
    return value


def _modules(side: Side) -> list[str]:
    if side.table is None:
        targets = side.config.get("target_modules")
        names = [targets] if isinstance(targets, str) else sorted(targets or [])
        return [f"target_modules: {', '.join(names) or '(PEFT defaults)'}"]
    adapted = {role_of(k)[0] for k in side.table.tensors if role_of(k)[1] != "copy"}
    copies = {role_of(k)[0] for k in side.table.tensors if role_of(k)[1] == "copy"}
    return fold(sorted(adapted)) + [f"{name} (full copy)" for name in fold(sorted(copies))]


def _folded(keys: list[str]) -> list[str]:
    return fold(sorted(k.removeprefix(PREFIX) for k in keys))


def _with_defaults(config: dict[str, Any]) -> dict[str, Any]:
    """The config with PEFT's LoraConfig defaults for every field it leaves out (as PEFT would apply it)."""
    from peft import LoraConfig

    return {**plain(LoraConfig().to_dict()), **config}


def diff(a: Side, b: Side) -> AdapterDiff:
    out = AdapterDiff(a, b)
    ca, cb = _with_defaults(a.config), _with_defaults(b.config)
    for name in sorted(set(ca) | set(cb)):
        if name in BOOKKEEPING:
            continue
        va, vb = _normal(ca.get(name)), _normal(cb.get(name))
        if va == vb or (va in (None, {}, []) and vb in (None, {}, [])):
            out.same_fields += 1
        else:
            out.fields[name] = (ca.get(name), cb.get(name))
    out.modules_a, out.modules_b = _modules(a), _modules(b)
    if a.table is not None and b.table is not None:
        ta, tb = a.table.tensors, b.table.tensors
        grouped: dict[tuple[str, tuple, tuple], list[str]] = {}
        for key in sorted(set(ta) & set(tb)):
            if ta[key][1] != tb[key][1]:
                short = key.removeprefix(PREFIX)
                grouped.setdefault((template(short), tuple(ta[key][1]), tuple(tb[key][1])), []).append(short)
        for (_t, sa, sb), keys in grouped.items():
            for name in fold(keys):
                out.shapes[name] = (list(sa), list(sb))
        out.only_a = _folded([k for k in ta if k not in tb])
        out.only_b = _folded([k for k in tb if k not in ta])
    return out


def trainable_on(base: str, side: Side, offline: bool | None) -> int:
    """PEFT's trainable count for this side's config on ``base`` (a full weightless audit)."""
    if side.kind == "adapter":
        return audit(AuditRequest(base, adapter=side.spec, offline=offline)).params.trainable
    request = AuditRequest(base, config_file=side.spec, overrides={"inference_mode": False}, offline=offline)
    return audit(request).params.trainable
