"""One real training step on fake tensors: build, adapt, quantize, run, and what it held at its peak.

The model is built on the meta device with the audit's class and config (fewer layers when the
estimate extrapolates), PEFT applies the audit's LoraConfig there (``low_cpu_mem_usage=True`` keeps
the adapter on meta too), and every meta tensor is then swapped for a fake CPU tensor, ties kept:
building under ``FakeTensorMode`` directly fails inside PEFT ("Couldn't swap Linear.weight"). The
step is the HF Trainer's: forward with labels (the loss as transformers computes it), ``backward``,
``optimizer.step()``, ``zero_grad(set_to_none=True)``, with autocast and gradient checkpointing as
asked, run twice: the second step holds the optimizer state the first created, as every later step of
training does, so its peak is the run's. Fake "cuda" tensors abort in backward on a CPU-only torch, so
the device is the CPU's: the allocations are the same ops' outputs, and CUDA's own overheads are
reported apart.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from lora_audit.integrations import bitsandbytes as bnb_private
from lora_audit.integrations import torch as torch_private
from lora_audit.integrations import transformers as transformers_private
from lora_audit.measure.memory.quantized import prepare_for_kbit_training, quantize_4bit
from lora_audit.measure.memory.tracker import storage_tracker

#: The weights' dtype of each precision (torch's names)
DTYPES = {"bf16": "bfloat16", "fp16": "float16", "fp32": "float32", "bf16-autocast": "float32"}
#: The autocast dtype of each precision: the HF Trainer autocasts with bf16=True / fp16=True.
AUTOCAST = {"bf16": "bfloat16", "fp16": "float16", "fp32": None, "bf16-autocast": "bfloat16"}


def _dtype(name: str | None) -> Any:
    import torch

    return getattr(torch, name) if name else None


@dataclass(frozen=True)
class Step:
    """What one step runs: every input of the estimate, resolved."""

    batch: int
    seq_len: int
    precision: str  #: bf16 | fp16 | fp32 | bf16-autocast
    optimizer: str  #: adamw_torch | adamw_torch_fused | adamw_8bit | sgd
    gradient_checkpointing: str  #: off | reentrant | non-reentrant
    attention: str  #: sdpa | eager
    #: 4-bit bitsandbytes: {"double_quant": bool, "compute_dtype": "bf16" | None, "skip": [module names]}
    quantization: dict[str, Any] | None = None


@dataclass
class StepResult:
    peak: int
    phase: str
    breakdown: dict[str, int] = field(default_factory=dict)
    phase_peaks: dict[str, int] = field(default_factory=dict)
    peak_rounded: int = 0  #: with the CUDA allocator's 512-byte rounding of each storage
    flops: int = 0  #: floating-point operations of the step, as torch's FlopCounterMode counts them


def with_layers(config: Any, layers: int) -> Any:
    """A copy of a transformers config with ``layers`` decoder layers (its per-layer lists cut to match)."""
    config = copy.deepcopy(config)
    text = getattr(config, "text_config", None) or config
    text.num_hidden_layers = layers
    if getattr(text, "layer_types", None):
        text.layer_types = list(text.layer_types)[:layers]
    if getattr(text, "max_window_layers", None) is not None:
        text.max_window_layers = min(text.max_window_layers, layers)
    return config


def run(cls: type, config: Any, lora_config: Any, step: Step, *, real: bool = False, seed: int = 0) -> StepResult:
    """The peak of one step of ``cls(config)`` with ``lora_config``: on fake tensors, or (``real``) on real CPU ones."""
    import torch
    from peft import get_peft_model

    dtype = _dtype(DTYPES[step.precision])
    config = copy.deepcopy(config)
    config.use_cache = False
    torch.manual_seed(seed)
    with contextlib.nullcontext() if real else torch.device("meta"):
        model = transformers_private.from_config(cls, config, dtype=dtype, attn_implementation=step.attention)
    model = get_peft_model(model, copy.deepcopy(lora_config), low_cpu_mem_usage=not real)
    device = torch.device("cpu")
    fake = None if real else torch_private.fake_mode()
    quantized: list[Any] = []
    if not real:
        _to_fake(model, fake, device)
    if step.quantization is not None:
        def factory(shape: tuple[int, ...], kind: Any) -> Any:
            return torch.zeros(shape, dtype=kind) if fake is None else torch_private.fake_tensor(fake, shape, kind,
                                                                                              device)
        compute = _dtype(DTYPES.get(step.quantization.get("compute_dtype") or "") or AUTOCAST[step.precision]
                         or "float32")
        quantized = quantize_4bit(model, compute, bool(step.quantization.get("double_quant")), factory,
                                  list(step.quantization.get("skip") or []))
        if fake is not None:
            prepare_for_kbit_training(model, fake, device)
    if step.gradient_checkpointing != "off":
        base = model.get_base_model()
        reentrant = step.gradient_checkpointing == "reentrant"
        base.activation_checkpointing_enable(activation_checkpointing_kwargs={"use_reentrant": reentrant})
        if reentrant:
            base.enable_input_require_grads()
    vocab = (getattr(config, "text_config", None) or config).vocab_size
    tracker = storage_tracker(torch_private.flop_formulas(), vocab)
    tracker.register_model(model, quantized)
    mask_path = contextlib.nullcontext() if real else transformers_private.fake_tensors_take_the_real_mask_path()
    # Made before the fake mode is entered: bitsandbytes' 8-bit AdamW computes its quantization maps from data.
    with _optimizer(step, model, fake, device) as optimizer, mask_path, \
            (fake if fake is not None else contextlib.nullcontext()), tracker:
        _train_step(model, tracker, step, vocab, device, optimizer)
    return StepResult(tracker.peak, tracker.peak_phase, dict(sorted(tracker.peak_breakdown.items())),
                      dict(tracker.phase_peaks), tracker.peak_rounded, tracker.step_flops)


def _to_fake(model: Any, fake: Any, device: Any) -> None:
    """Every meta parameter and buffer as a fake tensor on ``device``; a tensor shared by two slots stays shared."""
    import torch

    memo: dict[int, Any] = {}
    for module in model.modules():
        for kind, slot in torch_private.slots(module):
            for name, tensor in list(slot.items()):
                if tensor is None:
                    continue
                if id(tensor) not in memo:
                    swapped = torch_private.fake_tensor(fake, tensor.shape, tensor.dtype, device)
                    memo[id(tensor)] = torch.nn.Parameter(swapped, requires_grad=tensor.requires_grad) \
                        if kind == "parameter" else swapped
                slot[name] = memo[id(tensor)]
    for module in model.modules():  # tensors kept as plain attributes (rotary caches): the same swap
        for name, value in list(vars(module).items()):
            if isinstance(value, torch.Tensor) and value.is_meta and not name.startswith("_"):
                if id(value) not in memo:
                    memo[id(value)] = torch_private.fake_tensor(fake, value.shape, value.dtype, device)
                setattr(module, name, memo[id(value)])


@contextlib.contextmanager
def _optimizer(step: Step, model: Any, fake: Any, device: Any) -> Iterator[Any]:
    import torch

    parameters = [p for p in model.parameters() if p.requires_grad]
    if not parameters:
        yield None
        return
    # The HF Trainer's names (transformers 5.24.0 trainer_optimizer.py): adamw_torch is torch's AdamW, which on
    # CUDA tensors takes the foreach path by default; adamw_torch_fused passes fused=True; adamw_8bit is
    # bitsandbytes' AdamW with optim_bits=8 (integrations/bitsandbytes.py).
    if step.optimizer == "adamw_torch":
        yield torch.optim.AdamW(parameters, lr=1e-4, foreach=True)
    elif step.optimizer == "adamw_torch_fused":
        yield torch.optim.AdamW(parameters, lr=1e-4, fused=True)
    elif step.optimizer == "sgd":
        yield torch.optim.SGD(parameters, lr=1e-4, foreach=True)
    elif step.optimizer == "adamw_8bit":
        embeddings = [m.weight for m in model.modules() if isinstance(m, torch.nn.Embedding)]
        as_fake = None if fake is None else (lambda t: torch_private.fake_tensor(fake, t.shape, t.dtype, device))
        with bnb_private.adamw_8bit(parameters, embeddings, as_fake, lr=1e-4) as optimizer:
            yield optimizer
    else:
        raise ValueError(f"unknown optimizer {step.optimizer!r}")


#: Training steps run: the first creates the optimizer state; the second is every step after it.
STEPS = 2


def _train_step(model: Any, tracker: Any, step: Step, vocab: int, device: Any, optimizer: Any) -> None:
    import torch

    if step.optimizer == "adamw_8bit" and optimizer is not None:
        for name in bnb_private.QMAPS:  # copied to the GPU at the first step: allocated there
            tracker.track(optimizer.name2qmap[name], "optimizer")
    ids = torch.randint(0, vocab, (step.batch, step.seq_len), device=device)
    tracker.track(ids, "inputs")
    model.train()
    dtype = _dtype(AUTOCAST[step.precision])
    # Two steps: the optimizer creates its state in the first, and every later step runs its forward and
    # backward with that state alive, so the second step's peak is the one training reaches. FLOPs are one step's.
    for number in range(STEPS):
        tracker.set_phase("forward")
        autocast = torch.autocast(device.type, dtype=dtype) if dtype is not None else contextlib.nullcontext()
        with autocast:
            loss = model(input_ids=ids, labels=ids, use_cache=False).loss
        tracker.set_phase("backward")
        loss.backward()
        del loss
        tracker.set_phase("optimizer")
        if optimizer is not None:
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
        if number == 0:
            tracker.step_flops = tracker.flops
    tracker.set_phase("end")
