"""LA032 quantizer-skipped-target: adapted modules the quantizer leaves in full precision."""

from __future__ import annotations

from lora_audit.measure.quantization.classify import REGEX_WIDENED
from lora_audit.report import UnquantizedTarget
from tests.factory import check, expect, layer_names, one, quantization, report, target

CODE = "LA032"
TARGETS = [target("q_proj", layer_names("self_attn.q_proj")), target("lm_head", ["lm_head"])]


def test_fires_per_skip_field_with_the_entries_that_matched():
    skipped = [UnquantizedTarget("lm_head", "llm_int8_skip_modules: lm_head")]
    q = quantization(bits=8, skip_field="llm_int8_skip_modules", skip_modules=["lm_head"], quantized_targets=2,
                     unquantized_targets=skipped)
    f = one(check(report(targets=TARGETS, quantization=q), CODE))
    expect(f, CODE, "lm_head", "info",
           "1 adapted module stays in full precision under bitsandbytes quantization (llm_int8_skip_modules: "
           "lm_head); 2 adapted modules are quantized", hint="nothing to do if intended")


def test_an_entry_matched_as_a_regex_beyond_its_text_is_a_warning():
    widened = [UnquantizedTarget("model.layers.15.mlp.down_proj", f"modules_to_not_convert: model.layers.1. "
                                 f"{REGEX_WIDENED}")]
    q = quantization("awq", skip_field="modules_to_not_convert", quantized_targets=3, unquantized_targets=widened)
    f = one(check(report(targets=TARGETS, quantization=q), CODE))
    expect(f, CODE, "model.layers.15.mlp.down_proj", "warning", "matched as a regex", hint="escape the entry's dots")


def test_quiet_when_every_adapted_module_is_quantized():
    assert check(report(targets=TARGETS, quantization=quantization(quantized_targets=3)), CODE) == []
