"""Re-uploads offline: the error names the bundled model with the same name stem, and --assume-base uses it."""

from __future__ import annotations

import pytest

from lora_audit import audit
from lora_audit.errors import AuditError
from lora_audit.model.catalogue import name_stem, same_stem

LORA = {"r": 16, "target_modules": ["q_proj", "v_proj"]}


@pytest.mark.parametrize("repo_id, bundled", [
    ("unsloth/llama-3-8b-bnb-4bit", "meta-llama/Meta-Llama-3-8B"),
    ("NousResearch/Llama-2-7b-hf", "meta-llama/Llama-2-7b-hf"),
    ("Qwen/Qwen2.5-0.5B-Instruct", "Qwen/Qwen2.5-0.5B"),
])
def test_a_reupload_offline_names_the_bundled_model_and_the_flag(repo_id, bundled):
    assert same_stem(repo_id) == [bundled] and name_stem(repo_id) == name_stem(bundled)
    with pytest.raises(AuditError) as caught:
        audit(repo_id, LORA, offline=True)
    assert caught.value.code == "offline-not-cached"
    assert f"pass --assume-base {bundled}" in caught.value.hint


def test_assume_base_audits_the_bundled_config_and_says_so():
    assumed = audit("unsloth/llama-3-8b-bnb-4bit", LORA, offline=True, assume_base="meta-llama/Meta-Llama-3-8B")
    direct = audit("meta-llama/Meta-Llama-3-8B", LORA, offline=True)
    assert assumed.params == direct.params
    assert assumed.model.name == "unsloth/llama-3-8b-bnb-4bit"
    assert any(note.startswith("--assume-base: built from the config of meta-llama/Meta-Llama-3-8B")
               for note in assumed.notes)
    # the id names a pre-quantized bitsandbytes 4-bit repository: reported as the quantization it trains under
    assert (assumed.quantization.method, assumed.quantization.bits) == ("bitsandbytes", 4)
    assert direct.quantization is None


def test_no_hint_for_a_name_with_no_bundled_stem():
    with pytest.raises(AuditError) as caught:
        audit("org/something-else-7b", LORA, offline=True)
    assert "--assume-base" not in caught.value.hint
