"""GPU capacities for the verdict, and the CUDA-only terms that the modelled allocation leaves out.

Capacities are the cards' nominal memory, read as GiB (a "24 GB" card has 24,576 MiB on its label;
the driver keeps a little for itself, which is not modelled). None of these figures has been measured
on a GPU by this project yet; ``benchmarks/gpu_memory.py`` is the check to run where one exists.
"""

from __future__ import annotations

import re

GIB = 1 << 30

#: Nominal memory of common training GPUs (NVIDIA's data sheets), in GiB.
GPUS: dict[str, int] = {
    "T4": 16, "V100-16GB": 16, "V100-32GB": 32, "A10G": 24, "L4": 24, "RTX3090": 24, "RTX4090": 24,
    "RTX5090": 32, "L40S": 48, "A6000": 48, "A100-40GB": 40, "A100-80GB": 80, "A100": 80, "H100": 80,
    "H100-80GB": 80, "H200": 141, "B200": 180,
}

#: Dense bf16 (fp16 on cards without bf16) tensor-core peak, TFLOPS, from NVIDIA's data sheets: A100 and
#: H100 / H200 (SXM) data sheets, the Ada whitepaper (RTX 4090, L40S, L4). Used only for the labelled
#: assumption of a step's time; a card not listed gets no time.
PEAK_TFLOPS: dict[str, float] = {
    "A100": 312.0, "A100-40GB": 312.0, "A100-80GB": 312.0, "H100": 989.4, "H100-80GB": 989.4, "H200": 989.4,
    "RTX4090": 165.2, "L40S": 362.05, "L4": 121.0,
}
#: The assumed share of that peak a LoRA step reaches (model FLOPs utilisation): an assumption, stated with it.
UTILISATION = 0.4

#: The CUDA caching allocator rounds every block up to a multiple of 512 bytes (``kMinBlockSize`` in
#: c10/cuda/CUDACachingAllocator.cpp, PyTorch 2.13.0). The tracker applies it to each storage.
ALLOCATOR_ROUNDING = 512

#: What a single-GPU figure leaves out, named in every report (not measured here).
NOT_MODELLED = (
    "the CUDA context and cuBLAS / cuDNN workspaces (hundreds of MB, not measured here)",
    "the caching allocator's reserved-but-unallocated memory (fragmentation)",
    "kernels other than PyTorch's own: flash-attn, unsloth, Liger",
    "DeepSpeed ZeRO, FSDP sharding and multi-GPU runs",
)


def parse_gpu(text: str) -> tuple[str, int]:
    """``24GB`` / ``80GiB`` / a card's name (``RTX4090``, ``A100-80GB``) -> (name, capacity in bytes)."""
    spec = text.strip()
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(GB|GiB|G)", spec, re.IGNORECASE)
    if match:
        return f"{match[1]} GiB", int(float(match[1]) * GIB)
    key = next((name for name in GPUS if name.lower() == spec.lower().replace(" ", "")), None)
    if key is None:
        raise ValueError(spec)
    return key, GPUS[key] * GIB
