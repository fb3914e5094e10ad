"""LA005 frozen-head: a classification head that is neither adapted nor saved stays at its random init."""

from __future__ import annotations

from tests.factory import check, decoder, expect, layer_names, model, one, report, saved, target

CODE = "LA005"
CLASSIFIER = model(class_name="LlamaForSequenceClassification")
TREE = decoder(head="score")
TARGETS = [target("q_proj", layer_names("self_attn.q_proj"))]


def test_fires_on_a_frozen_score_head_with_the_task_type_that_trains_it():
    f = one(check(report(modules=TREE, model=CLASSIFIER, targets=TARGETS), CODE))
    expect(f, CODE, "score", "error",
           "the task head 'score' of LlamaForSequenceClassification is neither adapted nor in modules_to_save",
           hint="add --task-type SEQ_CLS (PEFT then trains and saves the head), or add score to modules_to_save")


def test_quiet_when_the_head_is_saved_or_adapted():
    with_saved = report(modules=TREE, model=CLASSIFIER, targets=TARGETS,
                        modules_to_save=[saved("score", ["score"], params=128, origin="task_type")])
    adapted = report(modules=TREE, model=CLASSIFIER, targets=[*TARGETS, target("score", ["score"])])
    assert check(with_saved, CODE) == check(adapted, CODE) == []


def test_quiet_on_a_causal_lm_and_when_nothing_was_applied():
    assert check(report(targets=TARGETS), CODE) == []
    assert check(report(modules=TREE, model=CLASSIFIER, targets=[target("c_attn")]), CODE) == []  # LA002's case
