"""Stage 2: the LoRA config from flags, files, dicts and LoraConfig objects; invalid values refused."""

from __future__ import annotations

import pytest
from peft import LoraConfig

from lora_audit.config.lora_config import parse_layers, parse_pattern, resolve_lora_config
from lora_audit.errors import AuditError
from tests.conftest import LORA


def test_yaml_file():
    spec = resolve_lora_config(file=LORA / "qwen-attention.yaml")
    assert spec.config.r == 16 and spec.config.lora_alpha == 32
    assert [e.pattern for e in spec.entries] == ["q_proj", "k_proj", "v_proj", "o_proj"]  # as written


def test_adapter_directory_and_flags_override_file():
    spec = resolve_lora_config(file=LORA / "adapter", overrides={"r": 4, "lora_alpha": None})
    assert spec.config.r == 4  # flag wins
    assert spec.config.lora_alpha == 16  # a flag left unset does not erase the file's value
    assert spec.origin.endswith("adapter_config.json + flags")


def test_unknown_fields_from_another_peft_are_tolerated():
    spec = resolve_lora_config(file=LORA / "newer-peft-adapter_config.json")
    assert spec.unknown_fields == ["another_future_field", "lora_shiny_new_option"]
    assert spec.config.r == 8


def test_entries_keep_their_kind():
    kinds = lambda fields: [(e.kind, e.pattern) for e in resolve_lora_config(fields).entries]  # noqa: E731
    assert kinds({}) == [("defaults", "(PEFT defaults)")]
    assert kinds({"target_modules": "all-linear"}) == [("all-linear", "all-linear")]
    assert kinds({"target_modules": r".*\.q_proj"}) == [("regex", r".*\.q_proj")]
    assert kinds({"target_modules": ["q", "v"], "target_parameters": ["experts.down_proj"]}) == [
        ("name", "q"), ("name", "v"), ("parameter", "experts.down_proj")]
    assert kinds({"target_parameters": ["experts.down_proj"]}) == [("parameter", "experts.down_proj")]


def test_caller_lora_config_is_not_touched():
    original = LoraConfig(r=8, target_modules="all-linear", modules_to_save=["lm_head"])
    before = original.to_dict()
    spec = resolve_lora_config(original)
    spec.config.target_modules = {"changed"}
    assert original.to_dict() == before


@pytest.mark.parametrize(
    "fields, fragment",
    [
        ({"r": 0}, "r=0"),
        ({"r": -4}, "r=-4"),
        ({"r": 2.5}, "r=2.5"),
        ({"lora_alpha": -16}, "lora_alpha=-16"),
        ({"lora_alpha": 0}, "lora_alpha=0"),
        ({"lora_dropout": 1.5}, "lora_dropout=1.5"),
        ({"lora_dropout": 1.0}, "lora_dropout=1.0"),
        ({"bias": "foo"}, "bias='foo'"),
        ({"task_type": "CAUSAL"}, "task_type='CAUSAL'"),
        ({"target_modules": "q_proj(("}, "not a valid regular expression"),
        ({"target_modules": [1, 2]}, "target_modules=[1, 2]"),
        ({"rank_pattern": {"q_proj": 0}}, "rank_pattern[q_proj]=0"),
        ({"layers_to_transform": [-1]}, "layers_to_transform=[-1]"),
        ({"target_modules": r".*q", "layers_to_transform": [0]}, "PEFT rejects"),
    ],
)
def test_invalid_values_get_one_clear_error(fields, fragment):
    with pytest.raises(AuditError) as info:
        resolve_lora_config(fields)
    assert fragment in info.value.message
    assert info.value.hint


def test_files_that_are_not_lora_configs(tmp_path):
    model_config = tmp_path / "config.json"
    model_config.write_text('{"model_type": "llama", "hidden_size": 8}')
    with pytest.raises(AuditError, match="not a LoRA config lora-audit can read") as info:
        resolve_lora_config(file=model_config)
    assert "pass it as MODEL" in info.value.hint
    ia3 = tmp_path / "ia3.json"
    ia3.write_text('{"peft_type": "IA3", "target_modules": ["k"], "lora_alpha": 8}')
    spec = resolve_lora_config(file=ia3)  # another PEFT method: read as IA3Config's fields, which lack lora_alpha
    assert (spec.method, spec.unknown_fields, type(spec.config).__name__) == ("IA3", ["lora_alpha"], "IA3Config")
    listing = tmp_path / "list.yaml"
    listing.write_text("- r\n- 8\n")
    with pytest.raises(AuditError, match="not a mapping"):
        resolve_lora_config(file=listing)


def test_layer_and_pattern_flags():
    assert parse_layers("0-3,7,5") == [0, 1, 2, 3, 5, 7]
    assert parse_pattern("q_proj=32,k_proj=16", "--rank-pattern", True) == {"q_proj": 32, "k_proj": 16}
    for bad in ("5-2", "a-b", "1,,2", "-3"):
        with pytest.raises(AuditError):
            parse_layers(bad)
    for bad in ("q_proj", "q_proj=x", "=3", "q_proj=1.5"):
        with pytest.raises(AuditError):
            parse_pattern(bad, "--rank-pattern", True)
