"""LA026 unknown-framework-key: a LoRA-looking key the framework does not read (its default applies)."""

from __future__ import annotations

from lora_audit.report import Location
from tests.factory import check, config_source, expect, layer_names, one, report, target

CODE = "LA026"
TARGETS = [target("q_proj", layer_names("self_attn.q_proj"))]


def test_fires_on_the_misspelt_key_and_points_at_its_line():
    source = config_source(unknown_keys={"lora_alph": ["lora_alpha"]}, key_lines={"lora_r": 6, "lora_alph": 7})
    f = one(check(report(targets=TARGETS, lora_config_source=source), CODE))
    expect(f, CODE, "lora_alph", "warning", "axolotl does not read 'lora_alph': it is ignored, and the default applies",
           hint="did you mean lora_alpha?")
    assert f.location == Location("train.yml", 7)


def test_quiet_when_the_file_has_no_unknown_key_or_there_is_no_file():
    assert check(report(targets=TARGETS, lora_config_source=config_source()), CODE) == []
    assert check(report(targets=TARGETS), CODE) == []
