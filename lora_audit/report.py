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
from typing import Any, TypedDict

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
    r: int | None  #: None for a method without a rank (IA3, LN-tuning)
    alpha: float | None  #: None for a method without an alpha
    scaling: float | None
    experts: int  #: >1 for a fused 3-D expert parameter (one LoRA pair per expert)
    #: actual A+B parameters PEFT created (another method: its layer's trainable adapter parameters)
    lora_params: int
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
class MethodInfo:
    """The PEFT method the config configures."""

    peft_type: str = "LORA"  #: PEFT's ``peft_type``: LORA, LOHA, IA3, PREFIX_TUNING...
    label: str = "LoRA"  #: as PEFT's config class spells it: LoHa, IA3, VeRA
    #: prefix, prompt and P-tuning and their kin: virtual tokens, no module adapted, no per-layer rows
    prompt_learning: bool = False
    #: the per-layer adapter cost as a formula in k, d and r, where the method's layers make it one (else None)
    formula: str | None = "r·(d+k)"


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


@dataclass(frozen=True)
class ToolInfo:
    """The versions that produced the report: lora-audit's and the libraries' that decided every count."""

    name: str
    version: str
    peft: str
    transformers: str
    torch: str


@dataclass(frozen=True)
class ApplyError:
    """PEFT's exception when it refused the whole config."""

    type: str  #: the exception's class name
    message: str


@dataclass(frozen=True)
class Location:
    """Where the entry a finding is about was written: a config file and (when known) its line."""

    file: str
    line: int | None
    #: in a notebook: the cell and the line within it (``cell 7, line 3``); None elsewhere
    cell: str | None = None


@dataclass(frozen=True)
class ConfigSource:
    """Which front-end read the LoRA config file, what it translated the file to, and where each key was written."""

    format: str  #: the front-end's name: peft, axolotl, llamafactory, trl
    file: str | None
    model: str | None  #: the base model the file names
    model_key: str | None  #: the key that named it (``base_model``, ``model_name_or_path``...)
    model_from: str  #: file | argument: whether the audited model came from the file or from MODEL
    steps: list[str]  #: what the framework did to the file's keys, in words, in order
    #: the LoraConfig fields the framework hands PEFT (PEFT's names, JSON values), before flags
    fields: dict[str, Any]
    flags: dict[str, Any]  #: fields given as flags, which win over the file
    sources: dict[str, list[str]]  #: LoraConfig field -> the file keys it came from
    #: keys that look like LoRA but the front-end does not read -> close known keys (LA026)
    unknown_keys: dict[str, list[str]]
    ignored_keys: list[str]  #: the framework's own keys that do not shape the LoraConfig (training, data)
    saved_for_inference: bool  #: a saved adapter (``inference_mode: true``), audited as training loads it
    all_linear_key: str | None  #: the framework's every-linear-layer switch, when the file used it
    field_keys: dict[str, str]  #: how the framework spells LoraConfig fields
    key_lines: dict[str, int]  #: the line of each top-level key
    entry_lines: dict[str, dict[str, int]]  #: per source key: the line of each list item or mapping key
    #: a training script's config (format ``python``): the call read, its line, and each argument with its line
    #: and whether it was resolved, defaulted or supplied by a flag; None for a config file
    script: dict[str, Any] | None = None

    def location_of(self, subject: str) -> Location | None:
        """Where a finding about ``subject`` points: the file and the line of the entry or key.

        ``subject`` is a config entry (``c_proj``, as a list item of the key it came from), a file key
        (``lora_target_moduels``), or a LoraConfig field (``target_modules``: the line of the key that
        set it). An entry the framework added (axolotl's ``lora_target_linear`` names) points at that key.
        """
        if not self.file:
            return None
        for keys in self.sources.values():
            for key in keys:
                line = self.entry_lines.get(key, {}).get(subject)
                if line is not None:
                    return self._at(line)
        if subject in self.key_lines:
            return self._at(self.key_lines[subject])
        for name, keys in self.sources.items():
            value = self.fields.get(name)
            members = value if isinstance(value, (list, dict)) else ()
            if subject == name or subject in members:
                for key in keys:
                    if key in self.key_lines:
                        return self._at(self.key_lines[key])
        return None

    def _at(self, line: int) -> Location:
        """The file and line; in a notebook, with the cell and its own line (``cell 7, line 3``)."""
        assert self.file is not None
        cells = (self.script or {}).get("cells") or {}
        return Location(self.file, line, cells.get(str(line)))


@dataclass(frozen=True)
class MemoryInput:
    """One input of the memory estimate, and where its value came from."""

    name: str  #: batch | seq_len | gradient_checkpointing | precision | optimizer | attention | ...
    value: Any
    source: str  #: ``--batch``, ``train.py:14 (TrainingArguments(per_device_train_batch_size=...))``, a default


@dataclass(frozen=True)
class GpuFit:
    """The verdict for one card: the modelled peak against its nominal capacity."""

    gpu: str
    capacity_bytes: int
    fits: bool
    headroom_bytes: int  #: capacity minus the peak (negative: short by that much)
    #: seconds per step at the assumed utilisation of the card's peak (None: no peak figure on file)
    step_seconds: float | None = None


@dataclass(frozen=True)
class MemoryChange:
    """The cheapest change that makes the step fit the smallest card given, found by running it too."""

    change: str  #: ``--gradient-checkpointing non-reentrant``, ``... --batch 2``, ``4-bit weights ...``
    peak_bytes: int  #: the step's peak with that change


@dataclass(frozen=True)
class MemoryFacts:
    """Peak memory of one training step, from the same step run on fake tensors (``--memory``)."""

    #: the peak of allocated tensor storage, as PyTorch's allocator counts it; None when not modelled
    peak_bytes: int | None
    #: the same with each storage rounded up to the CUDA caching allocator's 512-byte blocks
    peak_rounded_bytes: int | None
    phase: str | None  #: forward | backward | optimizer: where the peak occurs
    #: at the peak: frozen_weights (quantized storage included), trainable_params, gradients, optimizer,
    #: activations (made in forward), backward (made in backward), inputs, buffers
    breakdown: dict[str, int]
    inputs: list[MemoryInput]  #: every input, with its source (flag, file, default)
    fits: list[GpuFit]
    layers_run: list[int]  #: the decoder depths actually run (2 and 4 when extrapolated)
    extrapolated: bool  #: the peak is linear in identical layers: run 2 and 4, extrapolated to the model's
    not_modelled: list[str]  #: what the figure leaves out, in words
    refused: str | None = None  #: why there is no figure (a model class or quantization not modelled)
    #: floating-point operations of the step (forward, backward, optimizer), as torch's FlopCounterMode counts
    flops_per_step: int | None = None
    #: the assumed share of a card's peak FLOPS behind ``GpuFit.step_seconds``
    utilisation: float | None = None
    #: when a card given does not fit: the cheapest change whose own step fits the smallest one (None: none found)
    change: MemoryChange | None = None


@dataclass(frozen=True)
class QuantizationRef:
    """One place that names a quantization: a framework's request, or config.json's block."""

    method: str
    bits: int | None
    source: str


@dataclass(frozen=True)
class QuantizationConflict:
    """A request that transformers refuses (``method``) or ignores (``bits``) on this checkpoint."""

    kind: str  #: method | bits
    message: str


@dataclass(frozen=True)
class UnquantizedTarget:
    """An adapted module the quantizer leaves in full precision, and why."""

    name: str
    reason: str


@dataclass(frozen=True)
class UnsupportedFeature:
    """A LoRA setting PEFT does not support (or ignores) on this quantization backend."""

    feature: str  #: the LoraConfig field (``use_dora``, ``init_lora_weights``), or ``modules_to_save``
    value: str | int | float | bool | None  #: the config's value, shown in the finding
    severity: str  #: error | warning
    message: str


@dataclass(frozen=True)
class QuantizationFacts:
    """The quantization the base is trained under: what was asked, what transformers uses, what it spares."""

    #: quant_method as transformers names it: bitsandbytes, gptq, awq, fp8, compressed-tensors, ...
    method: str
    bits: int | None  #: weight bits; None when the config does not say one number
    source: str  #: where the effective quantization comes from (``config.json: quantization_config``)
    #: the method's settings worth showing (group_size, bnb_4bit_quant_type, fmt...), as config.json gives them
    details: dict[str, Any]
    skip_modules: list[str]  #: the quantizer's own skip list, as written
    skip_field: str | None  #: the field it came from: llm_int8_skip_modules, modules_to_not_convert, ignore
    #: modules transformers keeps in full precision by default (get_keys_to_not_convert), where it adds them
    default_skips: list[str]
    request: QuantizationRef | None  #: what the framework config asked for
    checkpoint: QuantizationRef | None  #: what config.json's quantization_config says
    resolution: str  #: request | checkpoint | agree | checkpoint-wins | conflict
    conflict: QuantizationConflict | None
    known: bool  #: lora-audit knows which LoRA features PEFT supports on this backend
    peft_layer: str | None  #: the PEFT layer that wraps quantized layers
    peft_requires: str | None  #: the package that layer needs
    note: str | None
    trainable: bool | None  #: whether transformers' Trainer fine-tunes this quantization (None: it depends)
    trainable_note: str | None
    quantized_targets: int  #: adapted modules on quantized layers
    unquantized_targets: list[UnquantizedTarget]
    unsupported: list[UnsupportedFeature]


@dataclass(frozen=True)
class BaseDims:
    """The base model's sizes a saved adapter is checked against."""

    architecture: str
    model_type: str
    hidden_size: int | None
    num_layers: int | None
    vocab_size: int | None


@dataclass(frozen=True)
class ConversionFacts:
    """How diffusers read a kohya-ss or diffusers-pipeline LoRA file into the denoiser's PEFT keys."""

    #: kohya | diffusers (the JSON key is ``from``, a Python keyword)
    from_format: str
    diffusers_version: str
    function: str  #: the diffusers conversion function called
    component: str  #: unet | transformer: the denoiser the converted keys load into
    config_from: str  #: keys (diffusers derives the LoraConfig from them) | metadata (lora_adapter_metadata)
    file_tensors: int
    denoiser_tensors: int  #: converted tensors, audited against the base
    text_encoder_tensors: int  #: text-encoder tensors in the file (lora_te*, text_encoder*.), not audited
    text_encoder_keys: list[str]  #: their names (the first 2000)

    def to_dict(self) -> dict[str, Any]:
        out = plain_fields(self)
        return {"from": out.pop("from_format"), **out}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ConversionFacts:
        return cls(from_format=data["from"], **{k: v for k, v in data.items() if k != "from"})


@dataclass(frozen=True)
class AdapterTensors:
    """A saved adapter's safetensors header: sizes, tensors, parameters by dtype."""

    file_bytes: int | None  #: size on disk (None for a hub file: only its header was fetched)
    header_bytes: int
    data_bytes: int  #: the data the header lists
    truncated: bool  #: the file is shorter than its header says
    tensors: int
    params: int
    tensor_bytes: int
    dtypes: dict[str, int]  #: safetensors dtype -> parameters


@dataclass(frozen=True)
class KeyMismatch:
    """A key both the file and PEFT have, with another shape in the file."""

    key: str
    module: str
    role: str  #: lora_A | lora_B | lora_B_bias | lora_embedding_A | lora_embedding_B | dora_magnitude | ... | copy
    file_shape: list[int]
    expected_shape: list[int]
    kind: str  #: rank | in_features | out_features | rows | shape


@dataclass(frozen=True)
class BaseWeight:
    """A base-model weight saved with the adapter (``save_embedding_layers``)."""

    key: str
    file_shape: list[int]
    base_shape: list[int]
    kind: str | None  #: None when the shapes agree; rows (another vocabulary size) | shape


@dataclass(frozen=True)
class AdapterFit:
    """The base the file's shapes fit: its hidden size and block count, against this base's."""

    hidden_size: int | None
    num_layers: int | None
    expected_num_layers: int | None
    hidden_differs: bool
    layers_differ: bool
    #: bundled catalogue models of the file's sizes, when they differ from this base's (else absent)
    candidates: list[str] | None = None

    def to_dict(self) -> dict[str, Any]:
        out = plain_fields(self)
        if self.candidates is None:
            del out["candidates"]
        return out


@dataclass(frozen=True)
class AdapterComparison:
    """The file's tensor table against the keys and shapes PEFT creates for this config on this base."""

    expected_tensors: int
    expected_params: int
    matched: int
    missing_count: int
    unexpected_count: int
    mismatched_count: int
    missing: list[str]  #: keys PEFT creates that the file lacks (the first 2000)
    unexpected: list[str]  #: file keys PEFT does not create (the first 2000)
    mismatched: list[KeyMismatch]  #: the first 2000
    base_weights: list[BaseWeight]
    fits: AdapterFit


@dataclass(frozen=True)
class AdapterFacts:
    """A saved adapter checked against this base (``--adapter``).

    In the JSON report the sections are flat, as they have always been: ``table``'s and
    ``comparison``'s fields sit beside the adapter's own, present only when the file was read
    (``inspected``) and compared (``compared``).
    """

    spec: str  #: the adapter as given: a path or hub id
    source: str  #: local | hub | hf-cache
    file: str  #: the weights file: a path, or repo:filename
    config_file: str | None  #: adapter_config.json; None for a converted kohya / diffusers file
    format: str  #: peft | pickle | kohya | diffusers
    base_model_name_or_path: str | None
    base_given: str | None  #: the base audited
    base_names_match: bool  #: base_model_name_or_path names the base audited (same id, or same directory)
    peft_version: str | None  #: the PEFT version that saved the adapter
    base: BaseDims
    conversion: ConversionFacts | None = None  #: kohya and diffusers files only
    note: str | None = None  #: why the table was not read (a pickle file)
    table: AdapterTensors | None = None  #: None for a pickle file, never unpickled
    comparison: AdapterComparison | None = None

    @property
    def inspected(self) -> bool:
        """The tensor table was read (not for a pickle file)."""
        return self.table is not None

    @property
    def compared(self) -> bool:
        """The table was compared with PEFT's expected keys."""
        return self.comparison is not None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "spec": self.spec, "source": self.source, "file": self.file, "config_file": self.config_file,
            "format": self.format, "inspected": self.inspected, "compared": self.compared,
            "base_model_name_or_path": self.base_model_name_or_path, "base_given": self.base_given,
            "base_names_match": self.base_names_match, "peft_version": self.peft_version, "base": plain(self.base),
        }
        if self.conversion is not None:
            out["conversion"] = plain(self.conversion)
        if self.note is not None:
            out["note"] = self.note
        if self.table is not None:
            out.update(plain_fields(self.table))
        if self.comparison is not None:
            out.update(plain_fields(self.comparison))
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AdapterFacts:
        """The facts back from :meth:`to_dict` (the result cache)."""
        table = comparison = None
        if data["inspected"]:
            table = AdapterTensors(**{f.name: data[f.name] for f in dataclasses.fields(AdapterTensors)})
        if data["compared"]:
            fits = data["fits"]
            comparison = AdapterComparison(
                **{f.name: data[f.name] for f in dataclasses.fields(AdapterComparison)
                   if f.name not in ("mismatched", "base_weights", "fits")},
                mismatched=[KeyMismatch(**row) for row in data["mismatched"]],
                base_weights=[BaseWeight(**row) for row in data["base_weights"]],
                fits=AdapterFit(**fits),
            )
        conversion = data.get("conversion")
        return cls(
            **{f.name: data[f.name] for f in dataclasses.fields(cls)
               if f.name not in ("base", "conversion", "note", "table", "comparison")},
            base=BaseDims(**data["base"]),
            conversion=None if conversion is None else ConversionFacts.from_dict(conversion),
            note=data.get("note"),
            table=table,
            comparison=comparison,
        )


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
    #: where the entry this finding is about was written
    location: Location | None = None


class Summary(TypedDict):
    """How many active findings of each severity, and how many were suppressed."""

    errors: int
    warnings: int
    infos: int
    suppressed: int


class AdaptedTotals(TypedDict):
    """The per-layer table's totals row."""

    modules: int
    lora_params: int
    dense_params: int
    ratio: float  #: lora_params / dense_params, rounded to 6 places (0.0 when nothing is dense)


@dataclass
class Report:
    """Everything lora-audit knows about one (model, LoRA config) pair."""

    tool: ToolInfo
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
    #: PEFT's exception when it refused the whole config
    apply_error: ApplyError | None = None
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
    lora_config_source: ConfigSource | None = None
    #: the PEFT method audited (LoRA unless the config names another)
    method: MethodInfo = field(default_factory=lambda: MethodInfo())
    #: the peak memory of one training step (``--memory``); None when not asked
    memory: MemoryFacts | None = None
    #: the quantization the base is trained under (framework flags or config.json's quantization_config)
    quantization: QuantizationFacts | None = None
    #: a saved adapter's tensor table checked against this base (``--adapter``)
    adapter: AdapterFacts | None = None
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
    def summary(self) -> Summary:
        active = self.active_findings
        return {
            "errors": sum(f.severity == "error" for f in active),
            "warnings": sum(f.severity == "warning" for f in active),
            "infos": sum(f.severity == "info" for f in active),
            "suppressed": len(self.findings) - len(active),
        }

    @property
    def adapted_totals(self) -> AdaptedTotals:
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


#: Facts with a ``to_dict`` of their own: the JSON keeps the layout it had when they were dicts.
OWN_LAYOUT = (ConversionFacts, AdapterFit, AdapterFacts)


def failing_findings(findings: list[Finding], fail_on: str) -> list[Finding]:
    if fail_on == "never":
        return []
    threshold = SEVERITIES.index(fail_on)
    return [f for f in findings if SEVERITIES.index(f.severity) <= threshold]


def plain(value: Any) -> Any:
    """JSON-ready data: dataclasses and dicts as objects, sets sorted, enums as their values.

    The facts whose JSON is laid out otherwise than their fields (:data:`OWN_LAYOUT`) render themselves.
    """
    if isinstance(value, OWN_LAYOUT):
        return value.to_dict()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return plain_fields(value)
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


def plain_fields(value: Any) -> dict[str, Any]:
    """A dataclass's fields as JSON-ready data, in field order."""
    return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}


def error_document(error: dict[str, str]) -> dict[str, Any]:
    """The JSON printed instead of a report when the audit could not run (exit code 2)."""
    return {"schema_version": SCHEMA_VERSION, "error": error}
