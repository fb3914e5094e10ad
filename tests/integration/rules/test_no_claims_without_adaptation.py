"""Over every config fixture: when PEFT adapted nothing (trainable 0), no finding describes an adaptation.

The case that prompted it: axolotl's ``lora_target_linear`` on Qwen2-VL hands PEFT the leaf names ``0``
and ``2``, which match whole blocks. PEFT refused the config, and LA051 still said ``'0'`` "adapts" a
decoder layer. Each fixture is audited as the README pairs it: alone, else on a bundled model (the
re-upload a hint names with ``--assume-base``, or a stand-in for a config that names no model).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import lora_audit
from lora_audit.errors import AuditError
from tests.conftest import FIXTURES

FOLDERS = ("lora", "axolotl", "llamafactory", "trl", "oumi", "torchtune", "ms-swift", "scripts", "methods")
SUFFIXES = (".json", ".yml", ".yaml", ".py", ".ipynb", ".md", ".sh")
#: The model a config that names none is audited on.
STAND_IN = {"methods": str(FIXTURES / "methods" / "llama-3.2-3B")}
DEFAULT_STAND_IN = "Qwen/Qwen2.5-0.5B"
#: A finding's words for "this module was adapted" (not "nothing is adapted", not "is not adapted").
CLAIM = re.compile(r"(?<!nothing )(?<!not )\b(adapts|is adapted|are adapted|gets the same rank)\b")


def _configs() -> list[Path]:
    return sorted(p for folder in FOLDERS for p in (FIXTURES / folder).rglob("*")
                  if p.suffix in SUFFIXES and p.name not in ("published.json", "config.json"))


def _audit(path: Path) -> list[lora_audit.Report]:
    folder = path.relative_to(FIXTURES).parts[0]
    kwargs: dict = {"config_file": path, "offline": True}
    model = None
    for _attempt in range(3):
        try:
            result = lora_audit.audit(model, **kwargs)
        except AuditError as error:
            if error.code == "model-missing" and model is None:
                model = STAND_IN.get(folder, DEFAULT_STAND_IN)
                continue
            named = re.search(r"--assume-base (\S+)", error.hint or "")
            if error.code == "offline-not-cached" and named and "assume_base" not in kwargs:
                kwargs["assume_base"] = named.group(1)
                continue
            pytest.skip(f"{error.code}: not audited as a single pair")
        return result if isinstance(result, list) else [result]
    pytest.fail("no pairing audited")


@pytest.mark.slow
@pytest.mark.parametrize("path", _configs(), ids=lambda p: str(p.relative_to(FIXTURES)))
def test_no_finding_claims_an_adaptation_that_did_not_happen(path):
    for report in _audit(path):
        if report.params.trainable:
            continue
        claims = [(f.code, f.message) for f in report.findings if CLAIM.search(f.message)]
        assert not claims, claims


def test_the_claim_pattern_tells_a_claim_from_its_negation():
    assert CLAIM.search("'0' adapts 1 Qwen2VLDecoderLayer and 1 Linear")
    assert not CLAIM.search("target_modules: nothing is adapted: PEFT refused the config")
    assert not CLAIM.search("model.lm_head is not adapted")


def test_a_config_peft_refuses_whole_names_the_entry_and_claims_nothing(tmp_path):
    """Only leaf names that match whole blocks: nothing is left to apply, so trainable is 0."""
    path = tmp_path / "blocks.yml"
    path.write_text("base_model: Qwen/Qwen2-VL-2B-Instruct\nadapter: lora\nlora_r: 16\nlora_alpha: 32\n"
                    "lora_target_modules: ['0', '2']\n")
    report = lora_audit.audit(None, config_file=path, offline=True)
    assert report.params.trainable == 0
    assert sorted(f.subject for f in report.findings if f.code == "LA004") == ["0", "2"]
    assert not [f for f in report.findings if CLAIM.search(f.message)]
