"""LA020 task-type-mismatch: a task_type that does not fit the model class (or none for a classifier)."""

from __future__ import annotations

from tests.factory import check, decoder, expect, layer_names, model, one, report, target

CODE = "LA020"
TARGETS = [target("q_proj", layer_names("self_attn.q_proj"))]
CLASSIFIER = model(class_name="LlamaForSequenceClassification")


def test_fires_on_a_classifier_without_a_task_type():
    f = one(check(report(modules=decoder(head="score"), model=CLASSIFIER, targets=TARGETS), CODE))
    expect(f, CODE, "task_type", "warning",
           "LlamaForSequenceClassification is a SEQ_CLS model but no task_type is set: PEFT does not train or save "
           "its head", hint="set task_type=SEQ_CLS (--task-type SEQ_CLS)")


def test_fires_on_a_task_type_of_another_head():
    f = one(check(report(targets=TARGETS, lora={"task_type": "SEQ_CLS"}), CODE))
    expect(f, CODE, "task_type", "warning",
           "task_type=SEQ_CLS does not fit LlamaForCausalLM, which is a CAUSAL_LM model",
           hint="use task_type=CAUSAL_LM")


def test_quiet_on_a_fitting_task_type_or_none_on_a_causal_lm():
    assert check(report(targets=TARGETS, lora={"task_type": "CAUSAL_LM"}), CODE) == []
    assert check(report(targets=TARGETS), CODE) == []
