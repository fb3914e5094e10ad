"""The facts factory builds reports an audit could have produced: valid JSON, rebuilt whole by the cache."""

from __future__ import annotations

import json

from lora_audit.cli.cache import report_from_dict
from lora_audit.rules.engine import run_rules
from tests.factory import (
    adapter,
    comparison,
    config_source,
    layer_names,
    mismatch,
    quantization,
    report,
    saved,
    target,
)


def _full():
    wrong_rank = mismatch("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", [8, 64], [4, 64], "rank")
    r = report(
        targets=[target("q_proj", layer_names("self_attn.q_proj")), target("c_attn")],
        modules_to_save=[saved("lm_head", ["lm_head"], params=64_000)],
        lora={"lora_alph": 3},
        quantization=quantization(quantized_targets=2),
        adapter=adapter(compared=comparison(mismatched=[wrong_rank])),
        lora_config_source=config_source(unknown_keys={"lora_alph": ["lora_alpha"]}, key_lines={"lora_alph": 3}),
    )
    r.findings = run_rules(r)
    return r


def test_a_factory_report_is_valid_json_report(validate):
    r = _full()
    document = validate(r.to_json())
    assert document["adapter"]["compared"] and document["adapter"]["mismatched"][0]["kind"] == "rank"
    assert {f.code for f in r.findings} >= {"LA001", "LA026", "LA042"}


def test_the_cache_rebuilds_every_fact_of_a_factory_report():
    r = _full()
    data = json.loads(r.to_json())
    rebuilt = report_from_dict(data)
    assert rebuilt.adapter == r.adapter and rebuilt.quantization == r.quantization
    assert rebuilt.lora_config_source == r.lora_config_source and rebuilt.tool == r.tool
    rebuilt.findings = run_rules(rebuilt)
    assert rebuilt.to_dict() == r.to_dict()
