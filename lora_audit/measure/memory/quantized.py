"""bitsandbytes 4-bit layers and ``prepare_model_for_kbit_training``, as they hold memory in a training step.

Read in bitsandbytes 0.50.2 (``nn/modules.py`` ``Params4bit`` / ``Linear4bit``, ``functional.py``
``quantize_4bit``, ``autograd/_functions.py`` ``MatMul4Bit``, ``backends/default/ops.py``):

- storage of an nf4 weight of n elements, blocksize 64: the packed uint8 weight (ceil(n/2) bytes);
  its absmax, fp32 per block (n/64), or with double quant (``bnb_4bit_use_double_quant``) uint8 per
  block plus fp32 per 256 blocks, an fp32 offset and a 256-entry fp32 code; and the 16-entry fp32 code:
  0.5625 bytes per parameter, or 0.5159 with double quant, plus 64 bytes per layer;
- forward dequantizes the weight to a temporary of the compute dtype and multiplies; only the packed
  weight is saved for backward (not the input, since bitsandbytes PR #1270), and backward dequantizes
  it again.

``prepare_model_for_kbit_training`` (PEFT 0.21.2, ``peft/utils/other.py``) freezes the base and casts
every parameter that is not quantized and is fp16/bf16 to fp32: the embeddings, norms and the head.
The emulation is measured against real bitsandbytes on the CPU in the research prototype
(``../shared/memory-prototype``): within 0.2% of the peak.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

from lora_audit.integrations import torch as torch_private

#: bitsandbytes' default blocksize for 4-bit weights, and the blocks per second-level block (double quant).
BLOCKSIZE = 64
NESTED_BLOCKS = 256

#: (shape, dtype) -> a tensor: fake in the estimate, real in the tests
Factory = Callable[[tuple[int, ...], Any], Any]


@functools.cache
def _classes() -> tuple[type, type]:
    """The emulated layer and its matmul, built once torch is imported (``lora-audit --help`` never imports it)."""
    import torch

    class _Matmul4bit(torch.autograd.Function):
        """MatMul4Bit's memory: a dequantized weight as a temporary each way; the packed weight saved."""

        @staticmethod
        def forward(ctx: Any, x: torch.Tensor, packed: torch.Tensor, out_features: int, in_features: int,
                    nested: bool) -> torch.Tensor:
            absmax = torch.empty(math.ceil(out_features * in_features / BLOCKSIZE), dtype=torch.float32,
                                 device=x.device) if nested else None
            weight = torch.empty(out_features, in_features, dtype=x.dtype, device=x.device)
            del absmax  # the nested absmax is dequantized first, then freed
            ctx.shape = (out_features, in_features, x.dtype, nested)
            ctx.save_for_backward(packed)
            return torch.nn.functional.linear(x, weight)

        @staticmethod
        def backward(ctx: Any, grad: torch.Tensor) -> Any:
            out_features, in_features, dtype, nested = ctx.shape
            absmax = torch.empty(math.ceil(out_features * in_features / BLOCKSIZE), dtype=torch.float32,
                                 device=grad.device) if nested else None
            weight = torch.empty(out_features, in_features, dtype=dtype, device=grad.device)
            del absmax
            return grad.to(dtype) @ weight, None, None, None, None


    class Linear4bit(torch.nn.Module):
        """A frozen Linear as bitsandbytes ``Linear4bit`` holds and runs it (nf4, blocksize 64)."""

        def __init__(self, linear: torch.nn.Linear, compute_dtype: torch.dtype, double_quant: bool,
                     factory: Factory) -> None:
            super().__init__()
            self.in_features, self.out_features = linear.in_features, linear.out_features
            self.compute_dtype = compute_dtype
            self.nested = double_quant
            n = linear.in_features * linear.out_features
            blocks = math.ceil(n / BLOCKSIZE)
            self.packed = factory((math.ceil(n / 2), 1), torch.uint8)
            state = [factory((blocks,), torch.uint8), factory((math.ceil(blocks / NESTED_BLOCKS),), torch.float32),
                     factory((), torch.float32), factory((256,), torch.float32)] if double_quant \
                else [factory((blocks,), torch.float32)]
            self.storage = [self.packed, *state, factory((16,), torch.float32)]
            self.bias = linear.bias

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            # Linear4bit.forward: the input in compute_dtype, matmul_4bit, the result back in the input's dtype
            dtype = x.dtype
            y = _Matmul4bit.apply(x.to(self.compute_dtype), self.packed, self.out_features, self.in_features,
                                  self.nested)
            if self.bias is not None:
                y = y + self.bias.to(self.compute_dtype)
            return y.to(dtype)

    return _Matmul4bit, Linear4bit


def quantize_4bit(model: Any, compute_dtype: Any, double_quant: bool, factory: Factory, skip: list[str]) -> list[Any]:
    """Replace the frozen Linear layers bitsandbytes converts (not ``skip``, not LoRA's own); their storage."""
    import torch

    linear4bit = _classes()[1]
    storage: list[Any] = []
    for name, module in list(model.named_modules()):
        for child_name, child in list(module.named_children()):
            full = f"{name}.{child_name}" if name else child_name
            if type(child) is not torch.nn.Linear or "lora_" in full:
                continue
            if any(full == s or full.endswith("." + s) or f".{s}." in f".{full}." for s in skip):
                continue
            layer = linear4bit(child, compute_dtype, double_quant, factory)
            setattr(module, child_name, layer)
            storage += layer.storage
    return storage


def prepare_for_kbit_training(model: Any, fake: Any, device: Any) -> None:
    """PEFT's upcast: every non-quantized fp16/bf16 base parameter becomes fp32 (and stays frozen)."""
    import torch

    done: dict[int, Any] = {}
    for name, module in model.named_modules():
        if "lora_" in name:
            continue
        for kind, slot in torch_private.slots(module):
            if kind != "parameter":
                continue
            for key, parameter in list(slot.items()):
                if parameter is None or parameter.dtype not in (torch.float16, torch.bfloat16):
                    continue
                if id(parameter) not in done:
                    done[id(parameter)] = torch.nn.Parameter(
                        torch_private.fake_tensor(fake, parameter.shape, torch.float32, device), requires_grad=False)
                slot[key] = done[id(parameter)]
