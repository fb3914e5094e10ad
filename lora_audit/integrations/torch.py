"""The one seam to PyTorch's private internals: fake tensors, dispatch modes, module slots.

The memory estimate runs one real training step on tensors that have shapes, dtypes and devices but
no storage (``torch._subclasses.fake_tensor``), and tracks what every op allocates with a
``TorchDispatchMode`` (``torch.utils._python_dispatch``): both are private modules with no public
equivalent. Verified against torch 2.13.0.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

# torch is imported inside each function: `lora-audit --help` and a cache hit must not pay for it.


def dispatch_mode_base() -> type:
    """The base class of a mode that sees every op (``__torch_dispatch__``): what MemTracker builds on."""
    from torch.utils._python_dispatch import TorchDispatchMode

    return TorchDispatchMode


def fake_mode() -> Any:
    """A FakeTensorMode: ops on its tensors compute shapes, dtypes and devices, never data."""
    from torch._subclasses.fake_tensor import FakeTensorMode

    return FakeTensorMode(allow_non_fake_inputs=False)


def fake_tensor(mode: Any, shape: Any, dtype: Any, device: Any) -> Any:
    """A fake tensor of ``mode``: the shape, dtype and device of a real one, no storage."""
    import torch
    from torch._subclasses.fake_tensor import FakeTensor

    return FakeTensor(mode, torch.empty(shape, dtype=dtype, device="meta"), device)


def is_fake(tensor: Any) -> bool:
    from torch._subclasses.fake_tensor import FakeTensor

    return isinstance(tensor, FakeTensor)


def outputs(value: Any) -> list[Any]:
    """The tensors in an op's output (a tensor, or a tuple / list / dict of them)."""
    from torch.utils._pytree import tree_flatten

    return tree_flatten(value)[0]


def slots(module: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """A module's own parameter and buffer slots, to swap tensors in place (ties are shared entries)."""
    # nn.Module._parameters / _buffers: the public setters re-register and would break ties
    yield "parameter", module._parameters
    yield "buffer", module._buffers


def op_packet(func: Any) -> Any:
    """The overload packet of an op a dispatch mode sees (``aten.mm`` for ``aten.mm.default``): what formulas key on."""
    # OpOverload._overloadpacket: no public accessor
    return func._overloadpacket


@functools.cache
def flop_formulas() -> dict[Any, Any]:
    """torch's FLOP formulas by op (torch 2.13.0 ``utils/flop_counter.py``), with the CPU's fused attention added.

    ``FlopCounterMode`` itself is not used: its module tracker holds hooks that change what the step keeps
    alive, so the tracker counts with the same formulas instead. torch has formulas for the flash,
    efficient and cuDNN attention kernels, not for ``_scaled_dot_product_flash_attention_for_cpu``, which
    the fake step runs: the same ones (``sdpa_flop_count``, ``sdpa_backward_flop_count``: every score, the
    causal half included, as torch counts them) are registered for it and its backward.
    """
    import torch
    from torch.utils import flop_counter as counting

    aten = torch.ops.aten

    @counting.register_flop_formula(aten._scaled_dot_product_flash_attention_for_cpu, get_raw=False)
    def forward(query: Any, key: Any, value: Any, *args: Any, **kwargs: Any) -> int:
        return int(counting.sdpa_flop_count(query, key, value))

    @counting.register_flop_formula(aten._scaled_dot_product_flash_attention_for_cpu_backward, get_raw=False)
    def backward(grad_out: Any, query: Any, key: Any, value: Any, *args: Any, **kwargs: Any) -> int:
        return int(counting.sdpa_backward_flop_count(grad_out, query, key, value))

    return dict(counting.flop_registry)


def meta_tensor_failure(error: BaseException | None) -> bool:
    """torch refusing to compute on meta tensors (``.item()``, ``nonzero``, a copy out): code that needs values.

    torch raises these as NotImplementedError / RuntimeError with no class of their own; the text names meta
    (torch 2.13: "Tensor.item() cannot be called on meta tensors", "Cannot copy out of meta tensor").
    """
    return isinstance(error, (NotImplementedError, RuntimeError)) and "meta" in str(error).lower()
