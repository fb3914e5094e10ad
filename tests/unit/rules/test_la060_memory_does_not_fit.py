"""LA060 memory-does-not-fit: the modelled peak of a training step against each --gpu card."""

from __future__ import annotations

from lora_audit.report import GpuFit, MemoryFacts, MemoryInput
from tests.factory import check, expect, one, report

CODE = "LA060"
GIB = 1 << 30


def _memory(peak_gib: float, capacity_gib: int, breakdown: dict[str, int], checkpointing: str = "off",
            batch: int = 1) -> MemoryFacts:
    peak = int(peak_gib * GIB)
    fit = GpuFit("RTX4090", capacity_gib * GIB, peak <= capacity_gib * GIB, capacity_gib * GIB - peak)
    inputs = [MemoryInput("batch", batch, "--batch"), MemoryInput("gradient_checkpointing", checkpointing, "default")]
    return MemoryFacts(peak, peak, "backward", breakdown, inputs, [fit], [2, 4], True, [])


def test_fires_when_the_step_needs_more_than_the_card_and_names_checkpointing_when_activations_dominate():
    memory = _memory(31.4, 24, {"frozen_weights": 15 * GIB, "activations": 14 * GIB, "backward": 2 * GIB}, batch=4)
    f = one(check(report(memory=memory), CODE))
    expect(f, CODE, "RTX4090", "error", "the step needs 31.40 GiB (in backward); RTX4090 has 24.00 GiB",
           hint="turn on gradient checkpointing (--gradient-checkpointing non-reentrant); halve the batch")


def test_fires_with_4_bit_as_the_change_when_the_frozen_weights_dominate():
    memory = _memory(53.5, 24, {"frozen_weights": 30 * GIB, "activations": 20 * GIB})
    f = one(check(report(memory=memory), CODE))
    assert "load the base in 4-bit (QLoRA)" in f.hint


def test_fires_naming_the_change_that_was_run_and_fits():
    import dataclasses

    from lora_audit.report import MemoryChange

    memory = dataclasses.replace(_memory(53.5, 24, {"frozen_weights": 30 * GIB}),
                                 change=MemoryChange("--gradient-checkpointing non-reentrant --batch 2", 22 * GIB))
    f = one(check(report(memory=memory), CODE))
    assert f.hint.startswith("with --gradient-checkpointing non-reentrant --batch 2 the step needs 22.00 GiB, which "
                             "fits")


def test_quiet_when_it_fits_or_without_a_figure():
    assert check(report(memory=_memory(12.7, 24, {"frozen_weights": 8 * GIB})), CODE) == []
    refused = MemoryFacts(None, None, None, {}, [], [], [], False, [], "not modelled")
    assert check(report(memory=refused), CODE) == []
    assert check(report(), CODE) == []
