"""PEFT's own method-comparison benchmark, audited: every count equals the figure PEFT published.

``fixtures/methods/peft-method-comparison/`` holds, verbatim, the ``adapter_config.json`` of each
experiment of PEFT's MetaMathQA method comparison (huggingface/peft, ``method_comparison/``; the
commit is in ``published.json``), and the trainable and total parameters PEFT's run recorded for it
on meta-llama/Llama-3.2-3B (``train_info.num_trainable_params`` / ``num_total_params`` of its results
file). Those runs built the real model with real weights; lora-audit builds it on meta from
``fixtures/methods/llama-3.2-3B/config.json``.
"""

from __future__ import annotations

import json
from collections import Counter

import pytest

import lora_audit
from lora_audit.errors import AuditError
from tests.conftest import FIXTURES

HERE = FIXTURES / "methods" / "peft-method-comparison"
MODEL = FIXTURES / "methods" / "llama-3.2-3B"
PUBLISHED = json.loads((HERE / "published.json").read_text())["runs"]

#: Runs lora-audit cannot reproduce from the config alone, and why (never a silently different number).
NOT_FROM_THE_CONFIG = {
    # training_params.json picks the LoRA-FA optimizer, which freezes lora_A: the config is plain LoRA
    "lora--llama-3.2-3B-rank32-lorafa": "the optimizer, not the config, freezes lora_A",
}
#: The error lora-audit gives instead of a number, for methods it cannot build without weights or packages.
REFUSED = {
    "adamss--llama-3.2-3B-rank32": "missing-dependency",  # scikit-learn, as PEFT says
    "frod--llama-3.2-3B-default": "method-needs-weights",  # decomposes the base weights
    "frod--llama-3.2-3B-sparse0.02-lr_0.001": "method-needs-weights",
    "shira--llama-3.2-3B-lr_0.0003-random_seed_42": "method-needs-weights",  # its mask needs nonzero() on values
}
#: PEFT 0.21.2 on real bf16 weights makes AdaLoRA's ranknum trainable (one per adapted module; the tiny-model test
#: in test_methods.py shows it on real weights here); the published run (PEFT 0.19.2.dev0, CUDA) counted it frozen.
VERSION_DIFFERENCE = {"adalora--llama-3.2-3B-rank32": 28 * 2}
FAST = ("loha--llama-3.2-3B-rank32", "ia3--llama-3.2-3B-default", "prompt_tuning--llama-3.2-3B-default",
        "vera--llama-3.2-3B-default")


def _cases():
    return [pytest.param(name, marks=() if name in FAST else (pytest.mark.slow,), id=name) for name in PUBLISHED
            if name not in NOT_FROM_THE_CONFIG]


def test_the_base_model_is_the_one_peft_measured():
    # Total minus trainable is the frozen base for most runs (others add frozen tensors of their own).
    bases = Counter(run["total"] - run["trainable"] for run in PUBLISHED.values())
    report = lora_audit.audit(MODEL, {"target_modules": ["q_proj"]})
    assert bases.most_common(1)[0][0] == report.params.base == 3_212_749_824


@pytest.mark.parametrize("name", _cases())
def test_published_counts(name):
    run = PUBLISHED[name]
    if name in REFUSED:
        with pytest.raises(AuditError) as refused:
            lora_audit.audit(MODEL, config_file=HERE / f"{name}.json")
        assert refused.value.code == REFUSED[name]
        return
    report = lora_audit.audit(MODEL, config_file=HERE / f"{name}.json")
    assert report.applied
    extra = VERSION_DIFFERENCE.get(name, 0)
    assert (report.params.trainable - extra, report.params.total) == (run["trainable"], run["total"])
    if extra:
        assert any("ranknum" in note for note in report.notes)
    breakdown = report.params.trainable_breakdown
    if not report.method.prompt_learning and breakdown["adapter"] == report.params.trainable:
        # the per-layer rows are every trainable adapter parameter, each tensor once (shared ones too)
        assert sum(row.lora_params for row in report.adapted_modules) == report.params.trainable
