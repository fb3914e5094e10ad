"""The training step's modelled peak memory is more than a GPU given with ``--gpu`` holds.

What it checks
--------------
With ``--memory`` and one or more ``--gpu`` cards, the peak of allocated memory of one training step
(forward with labels, backward, optimizer step: run on fake tensors with the audit's own model and
LoRA config) against each card's nominal capacity.

Why it matters
--------------
An out-of-memory error comes after the weights are downloaded, the data is tokenized and the job has
waited in a queue. The modelled figure is what PyTorch allocates for these tensors; the CUDA
context, workspaces and fragmentation come on top, so a run that does not fit here does not fit on
the card either.

Example
-------
::

    lora-audit meta-llama/Meta-Llama-3-8B --targets all-linear --memory --seq-len 2048 --batch 1 --gpu RTX4090
    # LA060 RTX4090: the step needs 53.61 GiB (in backward); RTX4090 has 24.00 GiB (fp32 weights)

Fix
---
The hint names the cheapest change that makes the step fit, found by running the step again with
each change, cheapest first: gradient checkpointing, then a halved batch (accumulate gradients
instead), then 4-bit weights (QLoRA). When none of them fits, it names what dominates the peak:
shorten the sequences or use a larger card.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from lora_audit.report import Report
from lora_audit.rules._base import Problem

CODE = "LA060"
NAME = "memory-does-not-fit"
SEVERITY = "error"

_GIB = 1 << 30


def check(report: Report, options: dict[str, Any]) -> Iterator[Problem]:
    memory = report.memory
    if memory is None or memory.peak_bytes is None:
        return
    for fit in memory.fits:
        if fit.fits:
            continue
        yield Problem(
            fit.gpu,
            f"the step needs {memory.peak_bytes / _GIB:.2f} GiB (in {memory.phase}); {fit.gpu} has "
            f"{fit.capacity_bytes / _GIB:.2f} GiB",
            _cheapest(report),
        )


def _cheapest(report: Report) -> str:
    memory = report.memory
    assert memory is not None and memory.peak_bytes
    if memory.change is not None:
        return (f"with {memory.change.change} the step needs {memory.change.peak_bytes / _GIB:.2f} GiB, which fits "
                "(run with that change, the cheapest of those tried that fits)")
    inputs = {i.name: i.value for i in memory.inputs}
    activations = memory.breakdown.get("activations", 0) + memory.breakdown.get("backward", 0)
    weights = memory.breakdown.get("frozen_weights", 0)
    steps = []
    if activations >= weights and inputs.get("gradient_checkpointing") == "off":
        steps.append(f"activations are {100 * activations / memory.peak_bytes:.0f}% of the peak: turn on gradient "
                     "checkpointing (--gradient-checkpointing non-reentrant)")
    if activations >= weights and (inputs.get("batch") or 1) > 1:
        steps.append("halve the batch (--batch) and accumulate gradients instead")
    if weights > activations and report.quantization is None:
        steps.append(f"the frozen weights are {100 * weights / memory.peak_bytes:.0f}% of the peak: load the base in "
                     "4-bit (QLoRA)")
    if not steps:
        steps.append("shorten the sequences (--seq-len), or use a card with more memory")
    return "; ".join(steps) + ", and run --memory again to check"
