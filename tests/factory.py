"""Build a :class:`~lora_audit.report.Report` from a few facts, with no model and no PEFT run.

The rules are pure functions of the report's facts, so a rule's unit test needs only the facts it
reads: a module tree (:func:`decoder` gives a tiny Llama-style one), the target entries, the
adapted rows, and whatever section the rule is about. :func:`report` fills everything else with
what an audit of that tree would hold (counts summed from the rows), and :func:`check` runs one
rule through the engine, exactly as an audit does (severity overrides, locations, order).

    r = report(modules=decoder(), targets=[target("q_proj", layer_names("self_attn.q_proj"))])
    assert check(r, "LA001") == []

(The idea is yamllint's ``tests/common.py`` ``RuleTestCase.check``: tiny inputs, exact problems.)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from lora_audit.adapter.compare import role_of
from lora_audit.report import (
    AdaptedModule,
    AdapterComparison,
    AdapterFacts,
    AdapterFit,
    AdapterTensors,
    ApplyError,
    BaseDims,
    BlockCoverage,
    ConfigSource,
    Finding,
    KeyMismatch,
    ModelInfo,
    ModuleNode,
    ParamCounts,
    PeftMessage,
    QuantizationFacts,
    QuantizationRef,
    Report,
    SavedMatch,
    TargetMatch,
    ToolInfo,
)
from lora_audit.rules.engine import run_rules
from lora_audit.rules.settings import Settings

TOOL = ToolInfo(name="lora-audit", version="0.0.0", peft="0.21.2", transformers="5.24.0", torch="2.13.0")
#: The LoraConfig fields every report holds, as PEFT's to_dict gives them (the rest as set by the test).
LORA_DEFAULTS: dict[str, Any] = {
    "r": 8, "lora_alpha": 16, "lora_dropout": 0.0, "bias": "none", "task_type": None, "use_dora": False,
    "use_rslora": False, "fan_in_fan_out": False, "layers_to_transform": None, "layers_pattern": None,
    "target_modules": None, "modules_to_save": None, "peft_type": "LORA",
}
ATTENTION = ("q_proj", "k_proj", "v_proj", "o_proj")
MLP = ("gate_proj", "up_proj", "down_proj")


# --------------------------------------------------------------------------- the module tree
def decoder(layers: int = 2, *, prefix: str = "model", attention: Sequence[str] = ATTENTION,
            mlp: Sequence[str] = MLP, head: str | None = "lm_head", family: str = "Llama",
            extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """``{module name: type}`` of a tiny decoder-only LM: embeddings, ``layers`` blocks, a norm, a head."""
    tree = {
        "": f"{family}ForCausalLM",
        prefix: f"{family}Model",
        f"{prefix}.embed_tokens": "Embedding",
        f"{prefix}.layers": "ModuleList",
    }
    for i in range(layers):
        block = f"{prefix}.layers.{i}"
        tree[block] = f"{family}DecoderLayer"
        tree[f"{block}.self_attn"] = f"{family}Attention"
        tree.update({f"{block}.self_attn.{name}": "Linear" for name in attention})
        tree[f"{block}.mlp"] = f"{family}MLP"
        tree.update({f"{block}.mlp.{name}": "Linear" for name in mlp})
    tree[f"{prefix}.norm"] = f"{family}RMSNorm"
    if head:
        tree[head] = "Linear"
    tree.update(extra or {})
    return tree


def layer_names(suffix: str, layers: int = 2, prefix: str = "model") -> list[str]:
    """``model.layers.0.<suffix>``, ``model.layers.1.<suffix>``, ...: one module per block."""
    return [f"{prefix}.layers.{i}.{suffix}" for i in range(layers)]


def nodes(tree: Mapping[str, str], shapes: Mapping[str, Sequence[int]] | None = None) -> list[ModuleNode]:
    """The report's module records for ``{name: type}``, in the mapping's order (as ``named_modules`` lists
    them); a parent missing from the mapping comes just before its first child, as a ``Module``."""
    types: dict[str, str] = {"": tree.get("", "Module")}
    for name, kind in tree.items():
        parts = name.split(".") if name else []
        for i in range(1, len(parts)):
            types.setdefault(".".join(parts[:i]), tree.get(".".join(parts[:i]), "Module"))
        types[name] = kind
    out = []
    for name, kind in types.items():
        shape = list((shapes or {}).get(name, ())) or None
        leaf = bool(name) and not any(other.startswith(name + ".") for other in types)
        out.append(ModuleNode(name=name, type=kind, params=math.prod(shape) if shape else 0, shape=shape,
                              leaf=leaf, parameters={"weight": shape} if shape else {}))
    return out


# --------------------------------------------------------------------------- facts
def model(**fields: Any) -> ModelInfo:
    """A Llama-style model's facts; any field may be given."""
    values: dict[str, Any] = {
        "name": "org/tiny-llama", "source": "bundled catalogue: org/tiny-llama", "source_kind": "catalogue",
        "revision": None, "model_type": "llama", "class_name": "LlamaForCausalLM", "base_params": 1_000_000,
        "num_layers": 2, "tie_word_embeddings": False,
    }
    values.update(fields)
    return ModelInfo(**values)


def target(pattern: str, modules: Sequence[str] = (), *, kind: str = "name", types: Mapping[str, int] | None = None,
           **fields: Any) -> TargetMatch:
    """What one target entry matched (``types`` default: every module a Linear)."""
    return TargetMatch(pattern=pattern, kind=kind, matched=len(modules), modules=list(modules),
                       types=dict(types) if types is not None else ({"Linear": len(modules)} if modules else {}),
                       **fields)


def saved(pattern: str, modules: Sequence[str] = (), *, params: int = 0, **fields: Any) -> SavedMatch:
    """What one modules_to_save entry wrapped."""
    return SavedMatch(pattern=pattern, matched=len(modules), modules=list(modules), params=params, **fields)


def row(name: str, k: int = 64, d: int = 64, *, r: int = 8, alpha: float = 16, base_type: str = "Linear",
        kind: str = "lora.Linear", experts: int = 1, kernel_size: Sequence[int] | None = None,
        use_rslora: bool = False, **fields: Any) -> AdaptedModule:
    """One adapted module with PEFT's counts: ``r·(k·kh·kw + d)`` LoRA against ``d·k·kh·kw`` dense (per expert)."""
    k_eff = k * math.prod(kernel_size or ())
    return AdaptedModule(
        name=name, kind=kind, base_type=base_type, in_features=k, out_features=d, r=r, alpha=alpha,
        scaling=alpha / math.sqrt(r) if use_rslora else alpha / r, experts=experts,
        lora_params=experts * r * (k_eff + d), dense_params=experts * k_eff * d,
        kernel_size=list(kernel_size) if kernel_size else None, **fields,
    )


def rows_for(names: Iterable[str], **fields: Any) -> list[AdaptedModule]:
    return [row(name, **fields) for name in names]


def blocks(container: str, adapted: Sequence[Mapping[str, int]], *, block_type: str = "LlamaDecoderLayer",
           linear_modules: int = 7) -> list[BlockCoverage]:
    """Coverage of ``container``'s blocks 0..n-1: per block, target entry -> modules adapted there."""
    return [BlockCoverage(container=container, index=i, block_type=block_type, adapted=dict(per_entry),
                          linear_modules=linear_modules) for i, per_entry in enumerate(adapted)]


def coverage_of(tree: Mapping[str, str], targets: Sequence[TargetMatch], container: str = "model.layers",
                block_type: str | None = None) -> list[BlockCoverage]:
    """Coverage as the measure stage computes it from the tree and the targets' modules."""
    indices = sorted({int(name[len(container) + 1:].split(".")[0]) for name in tree
                      if name.startswith(container + ".") and name[len(container) + 1:].split(".")[0].isdigit()})
    out = []
    for i in indices:
        block = f"{container}.{i}"
        out.append(BlockCoverage(
            container=container, index=i, block_type=block_type or tree.get(block, "Module"),
            adapted={t.pattern: sum(1 for m in t.modules if m.startswith(block + ".")) for t in targets},
            linear_modules=sum(1 for name, kind in tree.items() if name.startswith(block + ".") and kind == "Linear"),
        ))
    return out


def params(adapted: Sequence[AdaptedModule], saved_matches: Sequence[SavedMatch] = (), base: int = 1_000_000,
           **breakdown: int) -> ParamCounts:
    """PEFT's counts for these rows and copies on a base of ``base`` parameters."""
    lora = sum(r.lora_params for r in adapted)
    copies = sum(s.params for s in saved_matches if not s.dropped)
    parts = {"lora": lora, "dora_magnitude": 0, "adapter": 0, "bias": 0, "modules_to_save": copies,
             "trainable_tokens": 0, "other": 0, **breakdown}
    trainable = sum(parts.values())
    total = base + lora + copies
    return ParamCounts(base=base, total=total, trainable=trainable, frozen=total - trainable,
                       trainable_percent=round(100 * trainable / total, 4), trainable_breakdown=parts)


def report(*, modules: Mapping[str, str] | None = None, shapes: Mapping[str, Sequence[int]] | None = None,
           targets: Sequence[TargetMatch] = (), adapted: Sequence[AdaptedModule] | None = None,
           modules_to_save: Sequence[SavedMatch] = (), lora: Mapping[str, Any] | None = None,
           coverage: Sequence[BlockCoverage] | None = None, counts: ParamCounts | None = None,
           **facts: Any) -> Report:
    """A report holding these facts; the rest as an audit of ``modules`` would have them.

    ``adapted`` defaults to one 64x64 Linear row per module the targets match; ``coverage`` to what
    those targets reach in ``model.layers``; ``lora`` are LoraConfig fields over :data:`LORA_DEFAULTS`;
    ``counts`` (``Report.params``) default to the sums of the rows and copies. Any other Report
    field is passed through (``quantization=...``, ``adapter=...``, ``model=model(...)``).
    """
    tree = dict(modules if modules is not None else decoder())
    if adapted is None:
        adapted = [row(name) for t in targets if not t.dropped for name in t.modules
                   if tree.get(name, "Linear") == "Linear"]
    info = facts.pop("model", None) or model(class_name=tree.get("", "LlamaForCausalLM"))
    return Report(
        tool=facts.pop("tool", TOOL),
        model=info,
        lora_config={**LORA_DEFAULTS, **(lora or {})},
        applied=facts.pop("applied", bool(adapted)),
        params=counts or params(adapted, modules_to_save, base=info.base_params),
        targets=list(targets),
        modules_to_save=list(modules_to_save),
        adapted_modules=list(adapted),
        wrapped_modules=facts.pop("wrapped_modules", []),
        coverage=list(coverage) if coverage is not None else coverage_of(tree, targets),
        peft_messages=facts.pop("peft_messages", []),
        modules=nodes(tree, shapes),
        **facts,
    )


def apply_error(message: str, type: str = "ValueError") -> ApplyError:
    return ApplyError(type=type, message=message)


def peft_warning(message: str, stage: str = "apply") -> PeftMessage:
    return PeftMessage(stage=stage, level="warning", category="UserWarning", message=message)


def config_source(**fields: Any) -> ConfigSource:
    """What a front-end read (an axolotl file by default)."""
    values: dict[str, Any] = {
        "format": "axolotl", "file": "train.yml", "model": None, "model_key": None, "model_from": "argument",
        "steps": [], "fields": {}, "flags": {}, "sources": {}, "unknown_keys": {}, "ignored_keys": [],
        "saved_for_inference": False, "all_linear_key": None, "field_keys": {}, "key_lines": {}, "entry_lines": {},
    }
    values.update(fields)
    return ConfigSource(**values)


def quantization(method: str = "bitsandbytes", bits: int | None = 4, **fields: Any) -> QuantizationFacts:
    """A quantization the base trains under (QLoRA's bitsandbytes 4-bit by default)."""
    values: dict[str, Any] = {
        "method": method, "bits": bits, "source": "config.json: quantization_config", "details": {},
        "skip_modules": [], "skip_field": None, "default_skips": [], "request": None,
        "checkpoint": QuantizationRef(method=method, bits=bits, source="config.json: quantization_config"),
        "resolution": "checkpoint", "conflict": None, "known": True, "peft_layer": "lora.Linear4bit",
        "peft_requires": "bitsandbytes", "note": None, "trainable": True, "trainable_note": None,
        "quantized_targets": 0, "unquantized_targets": [], "unsupported": [],
    }
    values.update(fields)
    return QuantizationFacts(**values)


def base_dims(**fields: Any) -> BaseDims:
    values: dict[str, Any] = {"architecture": "LlamaForCausalLM", "model_type": "llama", "hidden_size": 64,
                              "num_layers": 2, "vocab_size": 1000}
    values.update(fields)
    return BaseDims(**values)


def fit(**fields: Any) -> AdapterFit:
    values: dict[str, Any] = {"hidden_size": None, "num_layers": 2, "expected_num_layers": 2, "hidden_differs": False,
                              "layers_differ": False}
    values.update(fields)
    return AdapterFit(**values)


def comparison(*, missing: Sequence[str] = (), unexpected: Sequence[str] = (),
               mismatched: Sequence[KeyMismatch] = (), matched: int = 8, **fields: Any) -> AdapterComparison:
    """The file's keys against PEFT's: ``matched`` keys fit, plus the given missing / unexpected / mismatched."""
    values: dict[str, Any] = {
        "expected_tensors": matched + len(missing) + len(mismatched), "expected_params": 0, "matched": matched,
        "missing_count": len(missing), "unexpected_count": len(unexpected), "mismatched_count": len(mismatched),
        "missing": list(missing), "unexpected": list(unexpected), "mismatched": list(mismatched),
        "base_weights": [], "fits": fit(),
    }
    values.update(fields)
    return AdapterComparison(**values)


def tensors(**fields: Any) -> AdapterTensors:
    values: dict[str, Any] = {"file_bytes": 4_104, "header_bytes": 1_000, "data_bytes": 3_096, "truncated": False,
                              "tensors": 8, "params": 774, "tensor_bytes": 3_096, "dtypes": {"F32": 774}}
    values.update(fields)
    return AdapterTensors(**values)


def adapter(*, compared: AdapterComparison | None = None, **fields: Any) -> AdapterFacts:
    """A saved PEFT adapter read from its header (and compared, when ``compared`` is given)."""
    values: dict[str, Any] = {
        "spec": "./adapter", "source": "local", "file": "adapter/adapter_model.safetensors",
        "config_file": "adapter/adapter_config.json", "format": "peft", "base_model_name_or_path": "org/tiny-llama",
        "base_given": "org/tiny-llama", "base_names_match": True, "peft_version": "0.21.2", "base": base_dims(),
        "table": tensors(), "comparison": compared,
    }
    values.update(fields)
    return AdapterFacts(**values)


def mismatch(key: str, file_shape: Sequence[int], expected_shape: Sequence[int], kind: str,
             role: str | None = None) -> KeyMismatch:
    module, found_role = role_of(key)
    return KeyMismatch(key=key, module=module, role=role or found_role, file_shape=list(file_shape),
                       expected_shape=list(expected_shape), kind=kind)


# --------------------------------------------------------------------------- running a rule
def check(report_: Report, code: str, settings: Settings | None = None, **options: Any) -> list[Finding]:
    """The findings of rule ``code`` alone on ``report_``, as the engine makes them (``options`` for the rule)."""
    base = settings or Settings()
    chosen = Settings(select=[code], ignore=base.ignore, severity=base.severity,
                      options={**base.options, code: {**base.options.get(code, {}), **options}},
                      fail_on=base.fail_on)
    return run_rules(report_, chosen)


def one(findings: Sequence[Finding]) -> Finding:
    """The single finding (a test that expects one fails loudly on zero or two)."""
    assert len(findings) == 1, [f"{f.code} {f.subject}: {f.message}" for f in findings]
    return findings[0]


def expect(finding: Finding, code: str, subject: str, severity: str, *fragments: str, hint: str | None = None) -> None:
    """``finding`` is ``code`` about ``subject`` at ``severity``, its message holds every fragment, its fix ``hint``."""
    assert (finding.code, finding.subject, finding.severity) == (code, subject, severity), finding
    for fragment in fragments:
        assert fragment in finding.message, f"{fragment!r} not in {finding.message!r}"
    if hint is not None:
        assert hint in finding.hint, f"{hint!r} not in {finding.hint!r}"


__all__ = [
    "ATTENTION", "LORA_DEFAULTS", "MLP", "TOOL", "adapter", "apply_error", "base_dims", "blocks", "check",
    "comparison", "config_source", "coverage_of", "decoder", "expect", "fit", "layer_names", "mismatch", "model",
    "nodes", "one", "params", "peft_warning", "quantization", "report", "row", "rows_for", "saved", "target",
    "tensors",
]
