"""Will it fit: the peak memory of one training step of the audited model and LoRA config.

Inputs come from the flags, else from the config file (a script's ``TrainingArguments`` /
``SFTConfig``), else the HF Trainer's defaults (transformers 5.24.0 ``TrainingArguments``:
``per_device_train_batch_size=8``, no bf16 / fp16, ``optim="adamw_torch_fused"``, no gradient
checkpointing, and with it ``use_reentrant=False``, ``PreTrainedModel._activation_checkpointing_enable``).
The sequence length has no default: without it the estimate stops and says which flag gives it.

The step runs on fake tensors (``step.py``). A uniform decoder stack (every layer the same modules,
shapes and adapters) holds exactly linearly more per layer, so it runs at 2 and 4 layers and the peak
and each part of it are extrapolated to the model's depth; any other model runs in full.
"""

from __future__ import annotations

import dataclasses
import importlib.util
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from lora_audit.capture import capture_messages
from lora_audit.errors import AuditError
from lora_audit.measure.memory import gpus
from lora_audit.measure.memory.step import Step, StepResult, run, with_layers
from lora_audit.report import GpuFit, MemoryChange, MemoryFacts, MemoryInput, Report

if TYPE_CHECKING:
    from lora_audit.config.training import TrainingSettings
    from lora_audit.model.build import BuiltModel
    from lora_audit.request import MemoryRequest

#: The HF Trainer's defaults, transformers 5.24.0 (``training_args.py``).
TRAINER_DEFAULTS: dict[str, Any] = {
    "batch": 8, "gradient_checkpointing": "off", "precision": "fp32", "optimizer": "adamw_torch_fused",
    "attention": "sdpa",
}
DEFAULT_SOURCE = "default (the HF Trainer's, transformers 5.24.0)"
PRECISIONS = ("bf16", "fp16", "fp32", "bf16-autocast")
OPTIMIZERS = ("adamw_torch", "adamw_torch_fused", "adamw_8bit", "sgd")
#: transformers' other names for a modelled optimizer (``training_args.py``: "adamw_8bit  # just an alias").
OPTIMIZER_ALIASES = {"adamw_bnb_8bit": "adamw_8bit"}
CHECKPOINTING = ("off", "reentrant", "non-reentrant")
ATTENTION = ("sdpa", "eager", "flash_attention_2")
#: Settings' names in TrainingSettings, and in MemoryRequest.
_FIELDS = {"batch": "batch_size", "seq_len": "seq_len", "gradient_checkpointing": "gradient_checkpointing",
           "precision": "precision", "optimizer": "optimizer", "attention": "attention"}
_FLAGS = {"batch": "--batch", "seq_len": "--seq-len", "gradient_checkpointing": "--gradient-checkpointing",
          "precision": "--precision", "optimizer": "--optimizer", "attention": "--attention"}


def estimate(request: MemoryRequest, report: Report, built: BuiltModel, lora_config: Any,
             training: TrainingSettings | None) -> MemoryFacts:
    """The memory facts of one training step; a one-line AuditError for inputs that cannot be used."""
    values, inputs = _inputs(request, training)
    fits_for = [_gpu(name) for name in request.gpus]
    refused = _unsupported(report, built, values)
    quantization = _quantization(report)
    if isinstance(quantization, str):
        refused = refused or quantization
        quantization = None
    if refused is not None:
        return MemoryFacts(None, None, None, {}, inputs, [], [], False, list(gpus.NOT_MODELLED), refused)
    attention = "sdpa" if values["attention"] == "flash_attention_2" else values["attention"]
    if values["attention"] == "flash_attention_2":
        inputs.append(MemoryInput("attention_kernel", "sdpa", "flash_attention_2 modelled by PyTorch's fused SDPA, "
                                                              "which saves the same tensors for backward"))
    step = Step(batch=values["batch"], seq_len=values["seq_len"], precision=values["precision"],
                optimizer=values["optimizer"], gradient_checkpointing=values["gradient_checkpointing"],
                attention=attention, quantization=quantization)
    if quantization is not None:
        inputs.append(MemoryInput("quantization", "bitsandbytes 4-bit" + (", double quant" if
                                  quantization["double_quant"] else ""), report.quantization.source
                                  if report.quantization else "request"))
        inputs.append(MemoryInput("prepare_model_for_kbit_training", True, "assumed (PEFT's QLoRA recipe): its fp32 "
                                                                           "upcast of the non-quantized weights"))
    cls = _model_class(built)
    layers = report.model.num_layers or 0
    uniform = _uniform(report, layers) if layers > 4 else False
    try:
        with capture_messages("memory"):  # transformers' deprecation notes about checkpointing: not the user's
            result, runs = _run(cls, built, lora_config, step, layers, uniform)
            smallest = min((capacity for _, capacity in fits_for), default=None)
            change = None
            if smallest is not None and result.peak > smallest:
                change = _cheapest_change(cls, built, lora_config, step, layers, uniform, smallest, report)
    except AuditError:
        raise
    except Exception as exc:  # noqa: BLE001 - a step transformers or PEFT cannot run: said, not a number
        text = str(exc).splitlines()[0][:200] if str(exc) else ""
        why = f"the fake training step failed: {type(exc).__name__}: {text}"
        return MemoryFacts(None, None, None, {}, inputs, [], [], False, list(gpus.NOT_MODELLED), why)
    fits = []
    for name, capacity in fits_for:
        peak = gpus.PEAK_TFLOPS.get(name)
        seconds = result.flops / (peak * 1e12 * gpus.UTILISATION) if peak else None
        fits.append(GpuFit(name, capacity, result.peak <= capacity, capacity - result.peak,
                           round(seconds, 4) if seconds is not None else None))
    return MemoryFacts(result.peak, result.peak_rounded, result.phase, result.breakdown, inputs, fits, runs,
                       runs != [layers], list(gpus.NOT_MODELLED), flops_per_step=result.flops,
                       utilisation=gpus.UTILISATION, change=change)


def _cheapest_change(cls: type, built: BuiltModel, lora_config: Any, step: Step, layers: int, uniform: bool,
                     capacity: int, report: Report) -> MemoryChange | None:
    """The first change, cheapest first, whose own step (run like the first) fits the smallest card given.

    In order: gradient checkpointing (recomputes the forward, costs time only), a smaller batch (halved,
    down to 1: accumulate gradients instead), 4-bit weights (QLoRA: changes the model's precision).
    """
    variants: list[tuple[str, Step]] = []
    prefix = ""
    if step.gradient_checkpointing == "off":
        step = dataclasses.replace(step, gradient_checkpointing="non-reentrant")
        prefix = "--gradient-checkpointing non-reentrant"
        variants.append((prefix, step))
    batch = step.batch
    while batch > 1:
        batch //= 2
        variants.append((f"{prefix} --batch {batch}".strip(), dataclasses.replace(step, batch=batch)))
    if step.quantization is None and report.quantization is None:
        four = dataclasses.replace(step, batch=1, quantization={"double_quant": False, "compute_dtype": None,
                                                                "skip": ["lm_head"]})
        variants.append((f"{prefix + ', ' if prefix else ''}4-bit weights (QLoRA: bitsandbytes nf4) and batch 1",
                         four))
    for label, variant in variants:
        result, _ = _run(cls, built, lora_config, variant, layers, uniform)
        if result.peak <= capacity:
            return MemoryChange(label, result.peak)
    return None


def _run(cls: type, built: BuiltModel, lora_config: Any, step: Step, layers: int,
         uniform: bool) -> tuple[StepResult, list[int]]:
    if uniform:
        two = run(cls, with_layers(built.config, 2), lora_config, step)
        four = run(cls, with_layers(built.config, 4), lora_config, step)
        result = _extrapolate(two, four, layers)
        if result is not None:
            return result, [2, 4]
    return run(cls, built.config, lora_config, step), [layers]  # not uniform, or not linear after all


def _inputs(request: MemoryRequest, training: TrainingSettings | None) -> tuple[dict[str, Any], list[MemoryInput]]:
    values: dict[str, Any] = {}
    inputs: list[MemoryInput] = []
    framework = training.framework if training is not None else None
    for name in training.unread if training is not None else ():
        if getattr(request, name, None) is None:
            raise AuditError(
                "usage",
                f"--memory needs {_FLAGS[name]} for this {framework} config: lora-audit does not read how "
                f"{framework} sets {name} yet",
                f"pass {_FLAGS[name]} (" + ", ".join(CHECKPOINTING) + ")",
            )
    for name, field_name in _FIELDS.items():
        flag = getattr(request, name)
        setting = getattr(training, field_name, None) if training is not None else None
        if flag is not None:
            value, source = flag, _FLAGS[name]
        elif setting is not None:
            value = setting.value
            where = f"{setting.file}:{setting.line}" if setting.file and setting.line else (setting.file or "the file")
            source = f"{where} ({setting.key})"
        elif name in TRAINER_DEFAULTS:
            value, source = TRAINER_DEFAULTS[name], DEFAULT_SOURCE
        else:
            raise AuditError(
                "usage",
                "--memory needs the sequence length, and the config does not give it",
                "pass --seq-len N (the tokens per training sequence, e.g. 2048)",
            )
        if name == "gradient_checkpointing" and isinstance(value, bool):
            # TrainingArguments(gradient_checkpointing=True) without kwargs: use_reentrant=False (transformers 5.24)
            value = "non-reentrant" if value else "off"
        values[name] = _checked(name, value, source)
        inputs.append(MemoryInput(name, values[name], source))
    return values, inputs


def _checked(name: str, value: Any, source: str) -> Any:
    if name == "optimizer":
        value = OPTIMIZER_ALIASES.get(value, value)
        if value == "adamw_8bit" and importlib.util.find_spec("bitsandbytes") is None:
            raise AuditError("missing-dependency", f"optimizer adamw_8bit ({source}) is bitsandbytes' 8-bit AdamW, "
                             "and bitsandbytes is not installed", "pip install bitsandbytes")
    choices = {"precision": PRECISIONS, "optimizer": OPTIMIZERS, "gradient_checkpointing": CHECKPOINTING,
               "attention": ATTENTION}.get(name)
    if choices is not None and value not in choices:
        raise AuditError(
            "usage",
            f"{name} {value!r} ({source}) is not modelled by --memory",
            f"pass {_FLAGS[name]} with one of {', '.join(choices)}",
        )
    if name in ("batch", "seq_len") and (not isinstance(value, int) or isinstance(value, bool) or not
                                         0 < value <= 1 << 20):
        raise AuditError("usage", f"{name} {value!r} ({source}) is not a positive whole number up to 1048576",
                         f"pass {_FLAGS[name]} N")
    return value


def _gpu(name: str) -> tuple[str, int]:
    try:
        return gpus.parse_gpu(name)
    except ValueError:
        raise AuditError(
            "usage",
            f"--gpu {name!r} is not a card lora-audit knows",
            "give its memory (--gpu 24GB) or one of " + ", ".join(gpus.GPUS),
        ) from None


def _unsupported(report: Report, built: BuiltModel, values: dict[str, Any]) -> str | None:
    model = report.model
    if model.library != "transformers" or not built.class_name.endswith(("ForCausalLM", "LMHeadModel")):
        return (f"the step is modelled for transformers causal language models (the loss from labels); "
                f"{built.class_name} is not one yet")
    if not report.applied:
        return "PEFT did not apply the config, so there is no training step to model"
    return None


def _quantization(report: Report) -> dict[str, Any] | str | None:
    q = report.quantization
    if q is None:
        return None
    if q.method == "bitsandbytes" and q.bits == 4:
        details = q.details or {}
        compute = str(details.get("bnb_4bit_compute_dtype") or "").replace("torch.", "")
        return {
            "double_quant": bool(details.get("bnb_4bit_use_double_quant")),
            "compute_dtype": {"bfloat16": "bf16", "float16": "fp16", "float32": "fp32"}.get(compute),
            "skip": list(q.skip_modules or []) + list(q.default_skips or []),
        }
    return f"{q.method} {q.bits or ''}-bit storage is not modelled yet (bitsandbytes 4-bit is)".replace(" -bit", "")


def _model_class(built: BuiltModel) -> type:
    import transformers

    cls = getattr(transformers, built.class_name, None)
    if cls is None:
        raise AuditError("usage", f"--memory cannot rebuild {built.class_name}: not a transformers class",
                         "run without --memory")
    return cls


def _uniform(report: Report, layers: int) -> bool:
    """Every decoder layer holds the same modules, shapes and adapters (so each adds the same bytes)."""
    names = [m.name for m in report.modules]
    container = next((n.rsplit(".", 1)[0] for n in names if n.endswith(".0")
                      and f"{n.rsplit('.', 1)[0]}.{layers - 1}" in names), None)
    if container is None:
        return False
    signatures: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    prefix = container + "."
    for module in report.modules:
        if module.name.startswith(prefix):
            index, _, rest = module.name[len(prefix):].partition(".")
            if index.isdigit():
                signatures[int(index)].append((rest, module.type, module.shape,
                                               tuple(sorted((module.parameters or {}).items()))))
    for row in report.adapted_modules:
        if row.name.startswith(prefix):
            index, _, rest = row.name[len(prefix):].partition(".")
            if index.isdigit():
                signatures[int(index)].append(("adapter", rest, row.kind, row.r, row.in_features, row.out_features))
    if sorted(signatures) != list(range(layers)):
        return False
    first = sorted(signatures[0])
    return all(sorted(signatures[i]) == first for i in range(1, layers))


def _extrapolate(two: StepResult, four: StepResult, layers: int) -> StepResult | None:
    """The peak at ``layers`` from the peaks at 2 and 4, when each part grows by the same bytes per layer."""
    if two.phase != four.phase or (four.peak - two.peak) % 2 or (four.peak_rounded - two.peak_rounded) % 2 \
            or (four.flops - two.flops) % 2:
        return None
    keys = set(two.breakdown) | set(four.breakdown)
    if any((four.breakdown.get(k, 0) - two.breakdown.get(k, 0)) % 2 for k in keys):
        return None

    def at(a: int, b: int) -> int:
        return a + (b - a) // 2 * (layers - 2)

    breakdown = {k: at(two.breakdown.get(k, 0), four.breakdown.get(k, 0)) for k in sorted(keys)}
    return StepResult(at(two.peak, four.peak), two.phase, breakdown, {}, at(two.peak_rounded, four.peak_rounded),
                      at(two.flops, four.flops))
