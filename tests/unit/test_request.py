"""AuditRequest: one typed, frozen record of an audit's inputs, and lora_audit.audit's typed signature."""

from __future__ import annotations

import dataclasses
import inspect

import pytest

import lora_audit
from lora_audit import AuditRequest
from tests.conftest import TINY

QWEN = str(TINY / "qwen2")
LORA = {"r": 4, "target_modules": ["q_proj", "v_proj"]}


def test_audit_takes_every_request_field_as_a_keyword_with_the_same_default():
    params = inspect.signature(lora_audit.audit).parameters
    assert not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    fields = {f.name: f.default for f in dataclasses.fields(AuditRequest)}
    assert list(params) == list(fields)
    assert params["model"].default is inspect.Parameter.empty  # model stays required, as documented
    for name, default in fields.items():
        if name != "model":
            assert params[name].default == default, name
            assert params[name].kind is (inspect.Parameter.POSITIONAL_OR_KEYWORD if name == "lora_config"
                                         else inspect.Parameter.KEYWORD_ONLY), name


def test_a_request_is_frozen_and_changes_make_a_copy():
    request = AuditRequest(QWEN, LORA)
    with pytest.raises(dataclasses.FrozenInstanceError):
        request.revision = "main"  # type: ignore[misc]  # the point of the test: assignment is refused
    changed = request.with_changes(revision="main")
    assert (request.revision, changed.revision, changed.model) == (None, "main", QWEN)


def test_cache_flags_are_the_inputs_that_change_facts():
    request = AuditRequest(QWEN, LORA, overrides={"r": 8}, task_type="SEQ_CLS", offline=True, timeout=5)
    assert request.cache_flags() == {"overrides": {"r": 8}, "revision": None, "task_type": "SEQ_CLS",
                                     "model_class": None, "trust_remote_code": False, "config_select": None,
                                     "memory": None, "assume_base": None, "quantization_request": None}


def test_audit_accepts_a_request_or_keywords_with_the_same_report():
    by_keywords = lora_audit.audit(QWEN, LORA, overrides={"lora_alpha": 16})
    by_request = lora_audit.audit(AuditRequest(QWEN, LORA, overrides={"lora_alpha": 16}))
    assert by_request.to_dict() == by_keywords.to_dict()
    assert by_request.lora_config["lora_alpha"] == 16 and by_request.adapted_modules  # the override reached PEFT


def test_a_request_with_other_arguments_is_refused():
    with pytest.raises(TypeError, match="takes no other arguments"):
        lora_audit.audit(AuditRequest(QWEN), LORA)
    with pytest.raises(TypeError, match="takes no other arguments"):
        lora_audit.audit(AuditRequest(QWEN), offline=True)
