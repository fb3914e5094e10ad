"""Detection never guesses: every fixture of every format is read as its own format, and a config of a
framework lora-audit does not read yet is refused by that framework's name (never misread as another)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lora_audit.config import frontends, other_trainers
from lora_audit.config.loading import load_config_file
from lora_audit.errors import AuditError
from tests.conftest import FIXTURES

#: Directory -> the format of each file in it; in ``lora/`` the name says (axolotl-*, else PEFT's own).
READ = {"axolotl": "axolotl", "llamafactory": "llamafactory", "trl": "trl", "oumi": "oumi", "torchtune": "torchtune"}
REFUSED = {"simpletuner": "SimpleTuner", "ai-toolkit": "ai-toolkit", "onetrainer": "OneTrainer"}


def _files(folder: str) -> list[Path]:
    return sorted(p for p in (FIXTURES / folder).rglob("*") if p.suffix in (".json", ".yml", ".yaml"))


def _expected(path: Path) -> str:
    folder = path.relative_to(FIXTURES).parts[0]
    if folder == "lora":
        return "axolotl" if path.name.startswith("axolotl-") else "peft"
    return READ[folder]


@pytest.mark.parametrize("path", [p for folder in (*READ, "lora") for p in _files(folder)],
                         ids=lambda p: str(p.relative_to(FIXTURES)))
def test_every_fixture_is_detected_as_its_format(path):
    detected = frontends.detect(load_config_file(path).data).NAME
    assert detected == _expected(path)


@pytest.mark.parametrize("path", [p for folder in REFUSED for p in _files(folder)],
                         ids=lambda p: str(p.relative_to(FIXTURES)))
def test_another_frameworks_config_is_refused_by_its_name(path):
    framework = REFUSED[path.relative_to(FIXTURES).parts[0]]
    assert other_trainers.identify(load_config_file(path).data) == framework
    with pytest.raises(AuditError) as caught:
        frontends.translate(load_config_file(path))
    assert caught.value.code == "not-a-lora-config" and f"{framework} config" in caught.value.message
    assert "model config.json" not in caught.value.hint


def test_the_simpletuner_file_that_was_read_as_llamafactory_is_named_not_counted(cli):
    """It has lora_rank (as LLaMA-Factory) and model_type: lora (as a model's config.json): it gave 0 trainable."""
    path = FIXTURES / "simpletuner" / "flux.peft-lora.config.json"
    for args in ([path], ["black-forest-labs/FLUX.1-dev", "--config", path]):
        result = cli(*args)
        assert result.code == 2 and result.out == ""
        assert "is a SimpleTuner config" in result.err and result.err.count("\n") == 1


def test_shell_scripts_are_named_by_the_trainer_they_run(cli, tmp_path):
    tune = tmp_path / "train.sh"
    tune.write_text("tune run lora_finetune_single_device --config llama3/8B_lora_single_device\n")
    other = tmp_path / "run.sh"
    other.write_text("python train.py --rank 8\n")
    assert "is a torchtune command line" in cli(tune).err
    result = cli(other)
    assert result.code == 2 and "is a shell script, not a LoRA config" in result.err


def test_the_lora_fields_read_from_peft_source_are_the_dataclass_fields():
    """Detection reads LoraConfig's fields from PEFT's source (no torch import); they must be PEFT's own."""
    import dataclasses

    from peft import LoraConfig

    from lora_audit.integrations.peft import lora_field_names_from_source

    assert lora_field_names_from_source() == {f.name for f in dataclasses.fields(LoraConfig)}
