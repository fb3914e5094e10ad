"""The one seam to bitsandbytes beyond its public API: its 8-bit AdamW, run on the fake training step.

The memory estimate runs bitsandbytes' own optimizer (``bitsandbytes.optim.AdamW``, ``optim_bits=8``), as the
HF Trainer builds it for ``optim="adamw_8bit"`` (transformers 5.24.0 ``trainer_optimizer.py``
``_get_bitsandbytes_optimizer``), so its state is what bitsandbytes allocates: ``state1`` / ``state2`` in
uint8 with one fp32 ``absmax`` per 256-element block, fp32 for a tensor under ``min_8bit_size`` (4,096), and
the two 256-entry quantization maps (bitsandbytes 0.50.2 ``optim/optimizer.py`` ``Optimizer2State.init_state``).
Its update is ``bitsandbytes::optimizer_update_8bit_blockwise``, in place (``_ops.py``), with a fake kernel.

Two things need bitsandbytes' internals:

- the constructor builds the quantization maps from data (``create_dynamic_map``), which fake tensors cannot:
  the optimizer is made outside the fake mode and its maps (``name2qmap``) replaced by fake ones;
- the HF Trainer keeps every ``nn.Embedding``'s weight in 32-bit (``trainer.py``, ``create_optimizer``:
  ``GlobalOptimManager.register_module_override(module, "weight", {"optim_bits": 32})``), which bitsandbytes
  holds in a process-wide table keyed by ``id(param)``: set for the step, removed after it, so that an id
  reused by a later audit never inherits it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

#: bitsandbytes' quantization maps (``fill_qmap``): signed for the first moment, unsigned for the second.
QMAPS = ("dynamic", "udynamic")


@contextlib.contextmanager
def adamw_8bit(parameters: list[Any], embeddings: list[Any], fake_map: Callable[[Any], Any] | None,
               lr: float) -> Iterator[Any]:
    """bitsandbytes' 8-bit AdamW over ``parameters``, ``embeddings`` (weights of nn.Embedding) kept in 32-bit."""
    import bitsandbytes as bnb

    optimizer = bnb.optim.AdamW(parameters, lr=lr, optim_bits=8, is_paged=False)
    manager = bnb.optim.GlobalOptimManager.get_instance()
    overridden = [p for p in embeddings if p.requires_grad]
    for parameter in overridden:
        manager.override_config(parameter, "optim_bits", 32)
    if fake_map is not None:
        if not all(name in optimizer.name2qmap for name in QMAPS):
            optimizer.fill_qmap()
        for name in QMAPS:
            optimizer.name2qmap[name] = fake_map(optimizer.name2qmap[name])
    try:
        yield optimizer
    finally:
        for parameter in overridden:
            manager.pid2config.pop(id(parameter), None)
