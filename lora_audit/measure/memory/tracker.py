"""Live tensor storage during one training step: what PyTorch allocates, by what it is, at its peak.

Every op's outputs are seen by a dispatch mode; each distinct storage is counted once (views share
it) and dropped when it dies (a weakref callback), so the running total is what the caching
allocator would hold as allocated, before its own rounding. This is what
``torch.distributed._tools.mem_tracker.MemTracker`` does (torch 2.13.0), without its grad hooks on
every parameter, which raise on a frozen base ("cannot register a hook on a tensor that doesn't
require gradient"). The same tracker runs on real tensors (the tests) and on fake ones (the estimate).
"""

from __future__ import annotations

import functools
import weakref
from collections import defaultdict
from typing import Any

from lora_audit.integrations import torch as torch_private
from lora_audit.measure.memory.gpus import ALLOCATOR_ROUNDING

#: What a storage is, by the phase that created it: the breakdown's categories.
PHASE_CATEGORY = {"forward": "activations", "backward": "backward", "optimizer": "optimizer"}


def _rounded(size: int) -> int:
    return -(-size // ALLOCATOR_ROUNDING) * ALLOCATOR_ROUNDING


def storage_tracker(formulas: dict[Any, Any] | None = None, vocab: int | None = None) -> Any:
    """A new tracker: a dispatch mode (enter it with ``with``) that counts live storage by category.

    With ``formulas`` (op -> torch's FLOP formula, ``flop_counter.flop_registry``) it also counts the
    step's floating-point operations, as ``FlopCounterMode`` would, without its module hooks. With
    ``vocab``, a tensor made in forward or backward whose last dimension is the vocabulary (the logits,
    their fp32 copy, log-softmax and its gradient) is counted as ``logits_and_loss``: no hook is needed,
    so nothing changes what the step keeps alive.
    """
    return _tracker_class()(formulas or {}, vocab)


@functools.cache
def _tracker_class() -> type:
    """The tracker class, built once torch is imported (``lora-audit --help`` never imports it)."""
    import torch

    class StorageTracker(torch_private.dispatch_mode_base()):  # type: ignore[misc]
        """Bytes of live tensor storage: the running total, the peak, and the breakdown at the peak."""

        def __init__(self, formulas: dict[Any, Any], vocab: int | None) -> None:
            super().__init__()
            self.formulas = formulas
            self.vocab = vocab
            self.flops = 0
            self.step_flops = 0  #: the FLOPs of the first step (set by the step runner)
            self._live: dict[int, tuple[weakref.ref[Any], int, str]] = {}
            self.current = 0
            #: the same total with each storage rounded up as the CUDA caching allocator rounds blocks
            self.current_rounded = 0
            self.peak_rounded = 0
            self.by_category: dict[str, int] = defaultdict(int)
            self.peak = 0
            self.peak_breakdown: dict[str, int] = {}
            self.peak_phase = "setup"
            self.phase = "setup"
            self.phase_peaks: dict[str, int] = defaultdict(int)

        def _free(self, key: int) -> None:
            record = self._live.pop(key, None)
            if record is not None:
                self.current -= record[1]
                self.current_rounded -= _rounded(record[1])
                self.by_category[record[2]] -= record[1]

        def track(self, tensor: Any, category: str) -> None:
            if not isinstance(tensor, torch.Tensor):
                return
            try:
                storage = tensor.untyped_storage()
            except (RuntimeError, NotImplementedError):  # sparse or nested tensors: none here
                return
            key = id(storage)
            record = self._live.get(key)
            if record is not None:
                if record[0]() is storage:
                    return
                self._free(key)  # a dead storage's id, reused
            size = storage.nbytes()
            if self.vocab and category in ("activations", "backward") and tensor.dim() >= 2 \
                    and tensor.shape[-1] == self.vocab:
                category = "logits_and_loss"
            self._live[key] = (weakref.ref(storage, self._on_death(key)), size, category)
            self.current += size
            self.current_rounded += _rounded(size)
            self.peak_rounded = max(self.peak_rounded, self.current_rounded)
            self.by_category[category] += size
            if self.current > self.phase_peaks[self.phase]:
                self.phase_peaks[self.phase] = self.current
            if self.current > self.peak:
                self.peak = self.current
                self.peak_breakdown = {k: v for k, v in self.by_category.items() if v}
                self.peak_phase = self.phase

        def _on_death(self, key: int) -> Any:
            def callback(_ref: Any) -> None:
                self._free(key)

            return callback

        def relabel(self, tensor: Any, category: str) -> None:
            """A storage counted under one category that is another (a parameter's .grad, first seen in backward)."""
            if not isinstance(tensor, torch.Tensor):
                return
            record = self._live.get(id(tensor.untyped_storage()))
            if record is None:
                self.track(tensor, category)
                return
            ref, size, old = record
            if old != category:
                self.by_category[old] -= size
                self.by_category[category] += size
                self._live[id(tensor.untyped_storage())] = (ref, size, category)

        def set_phase(self, phase: str) -> None:
            self.phase = phase
            self.phase_peaks[phase] = max(self.phase_peaks[phase], self.current)

        def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
            out = func(*args, **(kwargs or {}))
            formula = self.formulas.get(torch_private.op_packet(func)) if self.formulas else None
            if formula is not None:
                self.flops += int(formula(*args, **(kwargs or {}), out_val=out))
            category = PHASE_CATEGORY.get(self.phase, "other")
            for tensor in torch_private.outputs(out):
                self.track(tensor, category)
            return out

        def register_model(self, model: torch.nn.Module, extra_frozen: list[torch.Tensor]) -> None:
            """Count the model's parameters, buffers and quantized storage before the step."""
            for parameter in model.parameters():
                self.track(parameter, "trainable_params" if parameter.requires_grad else "frozen_weights")
            for buffer in model.buffers():
                self.track(buffer, "buffers")
            for tensor in extra_frozen:
                self.track(tensor, "frozen_weights")
            for parameter in model.parameters():
                if parameter.requires_grad:
                    parameter.register_post_accumulate_grad_hook(lambda p: self.relabel(p.grad, "gradients"))

    return StorageTracker
