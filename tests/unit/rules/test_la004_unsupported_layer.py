"""LA004 unsupported-layer: an entry matching a layer type LoRA cannot wrap (PEFT refuses the config)."""

from __future__ import annotations

from tests.factory import check, expect, layer_names, one, report, target

CODE = "LA004"
NORMS = layer_names("input_layernorm")


def test_fires_on_an_entry_peft_refused_for_its_layer_type():
    refused = target("input_layernorm", NORMS, types={"LlamaRMSNorm": 2}, dropped_kind="unsupported-layer",
                     dropped="Target module LlamaRMSNorm() is not supported.")
    f = one(check(report(targets=[target("q_proj", layer_names("self_attn.q_proj")), refused]), CODE))
    expect(f, CODE, "input_layernorm", "error",
           "'input_layernorm' matches 2 modules (model.layers.(0-1).input_layernorm) of type LlamaRMSNorm, "
           "which LoRA cannot wrap; PEFT refuses the whole config (audited without this entry). "
           "PEFT: Target module LlamaRMSNorm() is not supported.", hint="narrow the entry to Linear/Embedding/Conv")


def test_quiet_on_entries_peft_accepted_or_refused_for_another_reason():
    dora = target("lm_head", ["lm_head"], dropped_kind="dora-unsupported", dropped="DoRA ...")  # LA021
    assert check(report(targets=[target("q_proj", layer_names("self_attn.q_proj")), dora]), CODE) == []
