"""LA045 adapter-base-name: the adapter says it was trained on another base than the one audited."""

from __future__ import annotations

from tests.factory import adapter, check, comparison, expect, one, report

CODE = "LA045"


def test_fires_when_the_names_differ():
    a = adapter(compared=comparison(), base_model_name_or_path="org/other-model", base_names_match=False)
    f = one(check(report(adapter=a), CODE))
    expect(f, CODE, "org/other-model", "info",
           "the adapter's base_model_name_or_path is 'org/other-model', the base audited is 'org/tiny-llama'")


def test_quiet_when_they_name_the_same_base_or_there_is_no_adapter():
    assert check(report(adapter=adapter(compared=comparison())), CODE) == []
    assert check(report(), CODE) == []
