"""The audit's single product: plain dataclasses, no torch objects.

Every stage before ``check`` fills these; ``check`` adds findings; every renderer is a pure
function of a :class:`Report`. ``Report.to_dict()`` is the JSON report (``schema_version``
below, described by ``schema/report.schema.json``).
"""

from __future__ import annotations

import dataclasses
import enum
import json
from dataclasses import dataclass, field
from typing import Any

#: Bump when a key changes meaning or disappears; adding keys is compatible.
SCHEMA_VERSION = 2

SEVERITIES = ("error", "warning", "info")
#: ``--fail-on`` levels: a finding at or above the level fails the run.
FAIL_LEVELS = ("error", "warning", "info", "never")


@dataclass
class ModelInfo:
    """Which model was audited and where its config came from."""

    name: str  #: what the user asked for (id, path, or the class name of an nn.Module)
    source: str  #: where config.json came from, readable: a path, ``hub``, ``catalogue``...
    source_kind: str  #: local-dir | local-file | hf-cache | hub | catalogue | module
    revision: str | None
    model_type: str
    class_name: str
    base_params: int
    num_layers: int | None
    tie_word_embeddings: bool
    #: groups of parameter names that share one tensor (e.g. lm_head.weight and embed_tokens.weight)
    tied_weights: list[list[str]] = field(default_factory=list)
    architectures: list[str] = field(default_factory=list)
    is_encoder_decoder: bool = False
    #: parameters with 3 or more dimensions: MoE experts that transformers v5 fuses (no per-expert Linear)
    fused_expert_parameters: list[str] = field(default_factory=list)
    #: PEFT's table of transformers-v4 expert names for this model type and the fused parameter each became
    moe_v4_names: dict[str, str] = field(default_factory=dict)
    #: the library that built the model: transformers | diffusers | timm | sentence-transformers
    library: str = "transformers"
    #: that library's version
    library_version: str | None = None
    #: the part of a wrapper audited: a diffusers pipeline's component (unet, transformer, text_encoder...),
    #: or the path of a sentence-transformers Transformer module; None for a plain model
    component: str | None = None


@dataclass
class ModuleNode:
    """One module of the base model before injection (the tree snapshot)."""

    name: str
    type: str
    params: int  #: parameters owned directly by this module (tied ones counted once, at first owner)
    shape: list[int] | None  #: shape of its ``weight`` if it has one
    leaf: bool
    #: direct parameters of this module: name -> shape (3-D tensors here are fused MoE experts)
    parameters: dict[str, list[int]] = field(default_factory=dict)


@dataclass
class TargetMatch:
    """What one ``target_modules`` / ``target_parameters`` entry matched, per PEFT."""

    pattern: str
    #: name | regex | all-linear | defaults | parameter
    kind: str
    matched: int
    modules: list[str]
    types: dict[str, int] = field(default_factory=dict)
    #: all-linear / defaults: the names PEFT resolved the entry to
    resolved: list[str] | None = None
    #: PEFT rewrote this v4 name into a fused ``target_parameters`` entry (transformers v5 MoE)
    converted_to: list[str] = field(default_factory=list)
    #: set when PEFT refused this entry and the audit ran without it: PEFT's reason
    dropped: str | None = None
    #: unsupported-layer | dora-unsupported | fused-experts
    dropped_kind: str | None = None
    #: with layers_to_transform: how many modules the entry matches before the layer filter
    matched_without_layer_filter: int | None = None
    #: modules the entry names that PEFT leaves to modules_to_save instead (it never adapts those)
    excluded_by_modules_to_save: list[str] = field(default_factory=list)
    #: modules the name matches that stay unadapted because PEFT converted the entry to target_parameters
    unadapted_after_conversion: list[str] = field(default_factory=list)


@dataclass
class SavedMatch:
    """What one ``modules_to_save`` entry wrapped, and what the full copies cost."""

    pattern: str
    matched: int
    modules: list[str]
    params: int
    #: user | task_type (PEFT adds the task head for SEQ_CLS and friends)
    origin: str = "user"
    #: set when PEFT refused this entry (it wraps a LoRA-adapted module) and the audit ran without it
    dropped: str | None = None


@dataclass
class AdaptedModule:
    """One LoRA-adapted module (or fused parameter): the r·(d+k) against d·k row."""

    name: str
    kind: str  #: lora.Linear, lora.Embedding, lora.Conv1D (fan_in_fan_out Linear), lora.ParamWrapper...
    base_type: str
    in_features: int  #: k
    out_features: int  #: d
    r: int
    alpha: float
    scaling: float
    experts: int  #: >1 for a fused 3-D expert parameter (one LoRA pair per expert)
    lora_params: int  #: actual A+B parameters PEFT created
    dense_params: int  #: parameters of the adapted weight
    dora_params: int = 0
    use_dora: bool = False
    fan_in_fan_out: bool = False
    #: a convolution's kernel size (``[3, 3]``): its k is in_features·kh·kw and LoRA costs r·(c_in·kh·kw + c_out)
    kernel_size: list[int] | None = None

    @property
    def ratio(self) -> float | None:
        """lora_params / dense_params; None for a weight with no elements (JSON has no infinity)."""
        return self.lora_params / self.dense_params if self.dense_params else None


@dataclass
class WrappedModule:
    """Tree diff: one module PEFT replaced, with what it was and what it adds."""

    name: str
    new_type: str
    wrapped_type: str
    wrapped_shape: list[int] | None
    added_params: int


@dataclass
class ParamCounts:
    base: int
    total: int
    trainable: int
    frozen: int
    trainable_percent: float
    trainable_breakdown: dict[str, int]


@dataclass
class BlockCoverage:
    """One repeated block (``model.layers.7``) and how many modules each target entry adapted in it."""

    container: str
    index: int
    block_type: str
    adapted: dict[str, int]
    linear_modules: int  #: nn.Linear-like leaves in the block, adapted or not


@dataclass
class BiasParams:
    """Biases made trainable by ``bias="all"`` / ``"lora_only"``: inside adapted modules or not."""

    in_adapted: int = 0
    outside_adapted: int = 0
    outside_modules: list[str] = field(default_factory=list)


@dataclass
class PeftMessage:
    """A warning or error that PEFT/transformers emitted while we built or adapted the model."""

    stage: str  #: build | apply
    level: str  #: warning | error
    category: str
    message: str


@dataclass
class Finding:
    code: str
    name: str
    severity: str
    subject: str
    message: str
    hint: str
    suppressed: bool = False
    suppression_reason: str | None = None
    #: where the entry this finding is about was written: {"file": str, "line": int | None}
    location: dict[str, Any] | None = None


@dataclass
class Report:
    """Everything lora-audit knows about one (model, LoRA config) pair."""

    tool: dict[str, str]
    model: ModelInfo
    lora_config: dict[str, Any]
    applied: bool  #: False when PEFT refused the config (see findings)
    params: ParamCounts
    targets: list[TargetMatch]
    modules_to_save: list[SavedMatch]
    adapted_modules: list[AdaptedModule]
    wrapped_modules: list[WrappedModule]
    coverage: list[BlockCoverage]
    peft_messages: list[PeftMessage]
    modules: list[ModuleNode]
    #: PEFT's exception when it refused the whole config: {"type", "message"}
    apply_error: dict[str, str] | None = None
    #: rank_pattern / alpha_pattern key -> the adapted modules it sets (PEFT's get_pattern_key)
    pattern_matches: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    #: exclude_modules entry -> modules the targets match that this entry keeps out
    exclude_matches: dict[str, list[str]] = field(default_factory=dict)
    bias_params: BiasParams = field(default_factory=BiasParams)
    #: config-file fields this PEFT does not know (tolerated, reported as info)
    unknown_config_fields: list[str] = field(default_factory=list)
    #: how the model class was chosen, when it was not the config's own architecture
    notes: list[str] = field(default_factory=list)
    #: which front-end read the LoRA config file and what it translated it to (None: flags or API only)
    lora_config_source: dict[str, Any] | None = None
    #: the quantization the base is trained under (framework flags or config.json's quantization_config)
    quantization: dict[str, Any] | None = None
    #: a saved adapter's tensor table checked against this base (``--adapter``)
    adapter: dict[str, Any] | None = None
    findings: list[Finding] = field(default_factory=list)
    fail_on: str = "error"
    #: True when the facts came from the result cache (identical inputs and versions; rules re-run)
    from_cache: bool = False
    schema_version: int = SCHEMA_VERSION

    # ----------------------------------------------------------------- derived views
    @property
    def active_findings(self) -> list[Finding]:
        return [f for f in self.findings if not f.suppressed]

    @property
    def summary(self) -> dict[str, int]:
        active = self.active_findings
        return {
            "errors": sum(f.severity == "error" for f in active),
            "warnings": sum(f.severity == "warning" for f in active),
            "infos": sum(f.severity == "info" for f in active),
            "suppressed": len(self.findings) - len(active),
        }

    @property
    def adapted_totals(self) -> dict[str, Any]:
        """The per-layer table's totals row: every adapted module's LoRA and dense parameters."""
        lora = sum(r.lora_params for r in self.adapted_modules)
        dense = sum(r.dense_params for r in self.adapted_modules)
        return {
            "modules": len(self.adapted_modules),
            "lora_params": lora,
            "dense_params": dense,
            "ratio": round(lora / dense, 6) if dense else 0.0,
        }

    @property
    def ok(self) -> bool:
        """True when no unsuppressed finding is at or above ``fail_on`` (``error`` by default)."""
        return not failing_findings(self.active_findings, self.fail_on)

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1

    def to_dict(self) -> dict[str, Any]:
        """The JSON report as plain Python data (ints stay ints)."""
        out: dict[str, Any] = {"schema_version": self.schema_version}
        for f in dataclasses.fields(self):
            if f.name in ("schema_version", "fail_on"):
                continue
            out[f.name] = plain(getattr(self, f.name))
        for row, adapted in zip(out["adapted_modules"], self.adapted_modules, strict=True):
            row["ratio"] = None if adapted.ratio is None else round(adapted.ratio, 6)
        out["adapted_totals"] = self.adapted_totals
        out["summary"] = self.summary
        out["fail_on"] = self.fail_on
        out["ok"] = self.ok
        return out

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)


def failing_findings(findings: list[Finding], fail_on: str) -> list[Finding]:
    if fail_on == "never":
        return []
    threshold = SEVERITIES.index(fail_on)
    return [f for f in findings if SEVERITIES.index(f.severity) <= threshold]


def plain(value: Any) -> Any:
    """JSON-ready data: dataclasses and dicts as objects, sets sorted, enums as their values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (set, frozenset)):
        return sorted(plain(v) for v in value)
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def error_document(error: dict[str, str]) -> dict[str, Any]:
    """The JSON printed instead of a report when the audit could not run (exit code 2)."""
    return {"schema_version": SCHEMA_VERSION, "error": error}
