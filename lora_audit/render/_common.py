"""What the terminal and markdown renderings share: row grouping, labels, number formats.

Everything here is a pure function of the report.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lora_audit.naming import fold, indexed, input_size, ranges, summarize, template
from lora_audit.report import AdaptedModule, BlockCoverage, Location, Report, TargetMatch

ICONS = {"error": "✖", "warning": "▲", "info": "●"}


def n(value: int) -> str:
    return f"{value:,}"


def pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.4f}%" if whole else "-"


def ratio(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.2f}%"


def method_summary(report: Report) -> str:
    """The header line's config: LoRA's summary, or another method's rank, alpha and virtual tokens."""
    if report.method.peft_type == "LORA":
        return lora_summary(report)
    c = report.lora_config
    parts = [f"{key}={_num(c[key])}" for key in ("r", "alpha", "num_virtual_tokens") if c.get(key) is not None]
    if c.get("task_type"):
        parts.append(f"task_type={c['task_type']}")
    if c.get("layers_to_transform") is not None:
        layers = c["layers_to_transform"]
        parts.append(f"layers={ranges(layers if isinstance(layers, list) else [layers])}")
    return " ".join(parts) or "PEFT's defaults"


def cost_header(report: Report) -> str:
    """The per-layer table's cost column: the method's formula, or plainly its parameters."""
    return report.method.formula or "params"


def cost_title(report: Report) -> str:
    if report.method.formula:
        return f"Per-layer cost: {report.method.formula} against d·k"
    return f"Per-layer cost: {report.method.label}'s parameters against d·k"


def maybe(value: object) -> str:
    """A per-layer cell that a method may not have (IA3 has no rank): "-" for None."""
    return "-" if value is None else _num(value)


def lora_summary(report: Report) -> str:
    """``r=8 alpha=16 (scale 2) dropout=0.05 bias=none dora`` from the resolved config."""
    c = report.lora_config
    alpha = c.get("lora_alpha")
    r = c.get("r")
    parts = [f"r={r}", f"alpha={_num(alpha)}"]
    if isinstance(r, int) and r > 0 and isinstance(alpha, (int, float)):
        scale = alpha / (r**0.5) if c.get("use_rslora") else alpha / r
        parts.append(f"(scale {_num(round(scale, 4))}{', rsLoRA' if c.get('use_rslora') else ''})")
    parts.append(f"dropout={_num(c.get('lora_dropout'))}")
    parts.append(f"bias={c.get('bias')}")
    if c.get("use_dora"):
        parts.append("DoRA")
    if c.get("task_type"):
        parts.append(f"task_type={c['task_type']}")
    if c.get("layers_to_transform") is not None:
        layers = c["layers_to_transform"]
        parts.append(f"layers={ranges(layers if isinstance(layers, list) else [layers])}")
    return " ".join(parts)


def _num(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def model_line(report: Report) -> str:
    m = report.model
    layers = f", {m.num_layers} layers" if m.num_layers is not None else ""
    # transformers is the default; any other library is named with its version (diffusers 0.42.1).
    kind = m.model_type if m.library == "transformers" else " ".join(filter(None, (m.library, m.library_version)))
    if m.library == "sentence-transformers":
        kind = f"{m.model_type}, module of {kind}"
    return f"{m.class_name} ({kind}), {n(m.base_params)} parameters{layers}"


def library_text(report: Report) -> str:
    """``, diffusers 0.42.1`` for a model another library built; empty for transformers, the default."""
    m = report.model
    return "" if m.library == "transformers" else ", " + " ".join(filter(None, (m.library, m.library_version)))


def quantization_lines(report: Report) -> list[str]:
    """The base's quantization in a few plain lines (empty when it is not quantized)."""
    q = report.quantization
    if q is None:
        return []
    bits = f", {q.bits}-bit" if q.bits else ""
    main = f"{q.method}{bits} (from {q.source})"
    request = q.request
    if request and q.resolution == "agree":
        main += f"; {request.source} asks for the same"
    elif request and q.resolution in ("conflict", "checkpoint-wins"):
        label = f"{request.method}, {request.bits}-bit" if request.bits else request.method
        main += f"; {request.source} asks for {label}: {q.resolution}"
    details = ", ".join(f"{k}={_plain(v)}" for k, v in q.details.items())
    lines = [main + (f" · {details}" if details else "")]
    if q.peft_layer:
        lines.append(f"PEFT wraps quantized layers as {q.peft_layer}"
                     + (f" (needs {q.peft_requires})" if q.peft_requires else ""))
    elif report.method.peft_type != "LORA":
        lines.append(f"whether PEFT's {report.method.label} has a layer for this quantization is not checked "
                     "(lora-audit knows LoRA's)")
    if q.skip_modules:
        lines.append(f"not quantized ({q.skip_field}): {', '.join(q.skip_modules)}")
    if q.default_skips:
        lines.append(f"not quantized (transformers default): {', '.join(q.default_skips)}")
    unquantized = len(q.unquantized_targets)
    lines.append(f"adapted modules on quantized layers: {q.quantized_targets:,}"
                 + (f", in full precision: {unquantized:,}" if unquantized else ""))
    lines.append("parameter counts are logical (from shapes), not the quantized storage")
    return lines


def _plain(value: object) -> str:
    return "[" + ", ".join(map(str, value)) + "]" if isinstance(value, list) else str(value)


def breakdown_text(report: Report) -> str:
    parts = [f"{k.replace('_', ' ')} {n(v)}" for k, v in report.params.trainable_breakdown.items() if v]
    return " · ".join(parts) if parts else "nothing trainable"


@dataclass
class RowGroup:
    """Adapted modules with identical shape and settings, shown as one row."""

    label: str
    count: int
    row: AdaptedModule
    lora_params: int
    dense_params: int


def grouped_rows(report: Report) -> list[RowGroup]:
    groups: dict[tuple[str, str, int, int, int | None, float | None, int, int, int], RowGroup] = {}
    for row in report.adapted_modules:
        key = (template(row.name), row.kind, row.in_features, row.out_features, row.r, row.alpha, row.experts,
               row.lora_params, row.dense_params)
        if key in groups:
            g = groups[key]
            g.count += 1
            g.lora_params += row.lora_params
            g.dense_params += row.dense_params
        else:
            groups[key] = RowGroup(template(row.name), 1, row, row.lora_params, row.dense_params)
    return list(groups.values())


#: Weight layouts: nn.Linear stores (out, in); GPT-2's Conv1D stores (in, out).
_OUT_IN = {"Linear", "FalconLinear", "NonDynamicallyQuantizableLinear"}


def shape_text(module_type: str, shape: list[int]) -> str:
    """``Linear 896->128`` (in->out) for linear layers, ``151936x896`` for anything else."""
    if module_type in _OUT_IN and len(shape) == 2:
        return f"{shape[1]}->{shape[0]}"
    if module_type == "Conv1D" and len(shape) == 2:
        return f"{shape[0]}->{shape[1]}"
    return "x".join(str(s) for s in shape)


def in_text(row: AdaptedModule) -> str:
    """k as the table shows it: ``320`` for a Linear, ``320×3×3`` for a convolution (c_in and its kernel)."""
    return input_size(row.in_features, row.kernel_size)


def kind_note(row: AdaptedModule) -> str:
    """`` (256 experts)``, `` (Embedding)``...: what a per-layer row adapts when it is not a plain Linear."""
    if row.experts > 1:
        return f" ({row.experts} experts)"
    if row.kind == "lora.ParamWrapper":
        return " (parameter)"
    if row.base_type not in _OUT_IN:
        return f" ({row.base_type})"
    return ""


def common_prefix(labels: list[str]) -> str:
    """The dotted prefix all labels share (``model.layers.*.``), so tables can show the rest."""
    if not labels:
        return ""
    split = [label.split(".") for label in labels]
    shared: list[str] = []
    for parts in zip(*split, strict=False):
        if len(set(parts)) != 1:
            break
        shared.append(parts[0])
    # Keep at least the last segment of every label.
    shared = shared[: min(len(p) for p in split) - 1]
    return ".".join(shared) + "." if shared else ""


def totals(report: Report) -> tuple[int, int]:
    row = report.adapted_totals
    return row["lora_params"], row["dense_params"]


def types_text(types: dict[str, int]) -> str:
    return ", ".join(f"{t} x{c}" if c > 1 else t for t, c in sorted(types.items())) or "-"


def target_label(kind: str, pattern: str) -> str:
    return {"defaults": "(PEFT defaults)", "regex": f"regex {pattern}"}.get(kind, pattern)


def target_rows(report: Report) -> list[tuple[str, TargetMatch]]:
    """The target entries as table rows: (label, entry), one row per entry...

    ...except entries that are each one module's full path and matched just that module (LLaMA-Factory hands
    PEFT 196 such paths for Qwen2-VL): those sharing a path template and layer type fold into one row, labelled
    like ``model.language_model.layers.(0-27).self_attn.q_proj``, whose entry sums their matches.
    """
    # An entry's own row, or the key of a group of full-path entries (its row filled below, in first-seen order).
    rows: list[TargetMatch | tuple[str, tuple[tuple[str, int], ...]]] = []
    groups: dict[tuple[str, tuple[tuple[str, int], ...]], list[TargetMatch]] = {}
    for m in report.targets:
        own_path = m.kind == "name" and m.modules == [m.pattern] and not (m.dropped or m.converted_to)
        if not own_path:
            rows.append(m)
            continue
        key = (template(m.pattern), tuple(sorted(m.types.items())))
        if key not in groups:
            groups[key] = []
            rows.append(key)
        groups[key].append(m)
    out: list[tuple[str, TargetMatch]] = []
    for entry in rows:
        if isinstance(entry, TargetMatch):
            out.append((target_label(entry.kind, entry.pattern), entry))
            continue
        members = groups[entry]
        if len(members) == 1:
            out.append((members[0].pattern, members[0]))
            continue
        modules = [name for member in members for name in member.modules]
        types: dict[str, int] = {}
        for member in members:
            for kind, count in member.types.items():
                types[kind] = types.get(kind, 0) + count
        merged = TargetMatch(pattern=", ".join(fold([x.pattern for x in members])), kind="name",
                             matched=sum(x.matched for x in members), modules=modules, types=types)
        out.append((merged.pattern, merged))
    return out


def summary_line(report: Report) -> str:
    s = report.summary
    text = ", ".join(
        f"{count} {word}{'' if count == 1 else 's'}"
        for count, word in ((s["errors"], "error"), (s["warnings"], "warning"), (s["infos"], "info"))
    )
    if s["suppressed"]:
        text += f", {s['suppressed']} suppressed"
    verdict = "ok" if report.ok else f"fails (--fail-on {report.fail_on})"
    return f"{text} · {verdict} · exit {report.exit_code}"


def coverage_groups(report: Report) -> list[tuple[str, BlockCoverage, int]]:
    """Consecutive blocks of one container with the same adapters, folded: (label, first block, count)."""
    out: list[tuple[str, BlockCoverage, int]] = []
    run: list[BlockCoverage] = []

    def flush() -> None:
        if run:
            idx = [b.index for b in run]
            label = indexed(run[0].container, idx)
            out.append((label, run[0], len(run)))

    for block in report.coverage:
        if run and (block.container != run[-1].container or block.adapted != run[-1].adapted
                    or block.block_type != run[-1].block_type or block.index != run[-1].index + 1):
            flush()
            run = []
        run.append(block)
    flush()
    return out


__all__ = [
    "ICONS", "RowGroup", "breakdown_text", "common_prefix", "coverage_groups", "fold", "grouped_rows", "kind_note",
    "in_text", "library_text", "lora_summary", "model_line", "n", "pct", "ratio", "shape_text", "summarize",
    "summary_line", "target_label", "target_rows", "totals", "types_text",
]


def config_source_lines(report: Report) -> list[str]:
    """Which front-end read the config file, the model it named, and each step of its translation."""
    source = report.lora_config_source
    if source is None:
        return []
    model = ""
    if source.model:
        if source.model_from == "file":
            model = f" · model from {source.model_key}: {source.model}"
        elif source.model != report.model.name:
            model = f" · names {source.model} ({source.model_key}); MODEL {report.model.name} wins"
    lines = [f"{source.format} {source.file}{model}"]
    lines += script_lines(source.script)
    lines += [f"  {source.format} {step}" for step in source.steps]
    if source.ignored_keys:
        lines.append(f"  {plural_keys(len(source.ignored_keys))} of {source.format}'s own (training, data...) not "
                     "about LoRA: not checked")
    return lines


def script_lines(script: dict[str, Any] | None) -> list[str]:
    """A training script's config as read: the call, and each argument with its line or where it came from."""
    if not script:
        return []
    cells = script.get("cells") or {}

    def at(line: int | None, cell: str | None = None) -> str:
        return cell or cells.get(str(line)) or (f"line {line}" if line is not None else "an unknown line")

    parts = []
    for argument in script["arguments"]:
        name = argument["name"]
        if argument["from"] == "flag":
            parts.append(f"{name} from its flag")
        elif argument["from"] == "default":
            continue
        elif not argument["resolved"]:
            parts.append(f"{name}={argument['expression']} not read")
        else:
            parts.append(f"{name} ({at(argument['line'], argument.get('cell'))})")
    read = f"  python read {script['call']}(...) at {at(script['line'], script.get('cell'))}"
    return [read + (": " + ", ".join(parts) if parts else "")]


GIB = 1 << 30
#: The breakdown's parts, in the order the report shows them.
MEMORY_PARTS = (("frozen_weights", "frozen weights"), ("trainable_params", "trainable parameters"),
                ("gradients", "gradients"), ("optimizer", "optimizer state and step"),
                ("activations", "activations (forward)"), ("backward", "backward temporaries"),
                ("logits_and_loss", "logits and loss"),
                ("inputs", "inputs"), ("buffers", "buffers"), ("other", "other"))


def gib(size: int) -> str:
    """``31.40 GiB``; under a GiB in MiB (``160.0 MiB``), under a MiB in KiB."""
    if abs(size) >= GIB:
        return f"{size / GIB:,.2f} GiB"
    if abs(size) >= 1 << 20:
        return f"{size / (1 << 20):,.1f} MiB"
    return f"{size / 1024:,.1f} KiB"


def memory_rows(report: Report) -> list[tuple[str, str, str]]:
    """(label, value, note) rows of the Memory section; empty without ``--memory``."""
    memory = report.memory
    if memory is None:
        return []
    if memory.peak_bytes is None:
        return [("peak", "not modelled", memory.refused or "")]
    how = f"layers {' and '.join(map(str, memory.layers_run))}, extrapolated" if memory.extrapolated else \
        f"{memory.layers_run[0]} layers run in full" if memory.layers_run else ""
    rows = [("peak", gib(memory.peak_bytes), f"allocated (modelled), in {memory.phase} · {how}")]
    if memory.peak_rounded_bytes is not None:
        rows.append(("", gib(memory.peak_rounded_bytes), "with the CUDA allocator's 512-byte blocks"))
    for key, label in MEMORY_PARTS:
        value = memory.breakdown.get(key, 0)
        if value >= memory.peak_bytes / 2000:  # parts under 0.05% of the peak (a few KiB of buffers) are noise
            rows.append((label, gib(value), f"{100 * value / memory.peak_bytes:.1f}%"))
    if memory.flops_per_step:
        rows.append(("compute", f"{memory.flops_per_step / 1e12:,.2f} TFLOP", "per step (torch's FLOP formulas)"))
    for fit in memory.fits:
        verdict = "fits" if fit.fits else "does not fit"
        time = "" if fit.step_seconds is None else \
            f"; ≈ {fit.step_seconds:,.2f} s per step at an assumed {100 * (memory.utilisation or 0):.0f}% of its peak"
        rows.append((f"on {fit.gpu}", verdict, f"{gib(abs(fit.headroom_bytes))} "
                     f"{'headroom' if fit.fits else 'short'} of {gib(fit.capacity_bytes)}{time}"))
    return rows


def memory_inputs(report: Report) -> str:
    """``batch 1 (--batch), seq_len 2048 (train.py:12 (...)), ...``: each input and where it came from."""
    memory = report.memory
    if memory is None:
        return ""
    return ", ".join(f"{i.name} {i.value} ({i.source})" for i in memory.inputs)


def plural_keys(count: int) -> str:
    return f"{count} key{'' if count == 1 else 's'}"


def location_text(location: Location | None) -> str:
    """``lora.yml:12`` for a finding's location; empty when it has none."""
    if location is None:
        return ""
    if location.cell is not None:
        return f"{location.file}: {location.cell}"
    return f"{location.file}:{location.line}" if location.line is not None else location.file
