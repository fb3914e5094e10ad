"""LA031 quantization-conflict: a framework's request that transformers refuses or ignores on this checkpoint."""

from __future__ import annotations

from lora_audit.report import QuantizationConflict
from tests.factory import check, expect, layer_names, one, quantization, report, target

CODE = "LA031"
TARGETS = [target("q_proj", layer_names("self_attn.q_proj"))]


def test_another_method_is_an_error():
    conflict = QuantizationConflict(kind="method", message="qlora.yml asks for bitsandbytes 4-bit, but ... GPTQ")
    f = one(check(report(targets=TARGETS, quantization=quantization("gptq", conflict=conflict)), CODE))
    expect(f, CODE, "quantization", "error", "qlora.yml asks for bitsandbytes 4-bit, but ... GPTQ",
           hint="remove the framework's quantization flags")


def test_other_bits_are_a_warning():
    conflict = QuantizationConflict(kind="bits", message="qlora.yml asks for bitsandbytes 4-bit, checkpoint 8-bit")
    f = one(check(report(targets=TARGETS, quantization=quantization(bits=8, conflict=conflict)), CODE))
    expect(f, CODE, "quantization", "warning", hint="make the request match the checkpoint's quantization")


def test_quiet_when_request_and_checkpoint_agree():
    assert check(report(targets=TARGETS, quantization=quantization(resolution="agree")), CODE) == []
