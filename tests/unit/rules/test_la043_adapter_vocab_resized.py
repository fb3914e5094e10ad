"""LA043 adapter-vocab-resized: an adapter trained after resize_token_embeddings, on a base of another vocabulary."""

from __future__ import annotations

from lora_audit.report import BaseWeight
from tests.factory import adapter, check, comparison, expect, mismatch, one, report

CODE = "LA043"


def test_fires_on_an_embedding_adapter_with_more_rows():
    rows = [mismatch("base_model.model.model.embed_tokens.lora_embedding_A", [8, 1010], [8, 1000], "rows")]
    f = one(check(report(adapter=adapter(compared=comparison(mismatched=rows))), CODE))
    expect(f, CODE, "model.embed_tokens", "error",
           "1,010 vocabulary rows in the adapter, 1,000 in the base: the vocabulary was resized before training",
           hint="call model.resize_token_embeddings(1010) on the base before PeftModel.from_pretrained")


def test_fires_on_a_saved_base_weight_of_another_vocabulary():
    saved = BaseWeight(key="base_model.model.lm_head.weight", file_shape=[1010, 64], base_shape=[1000, 64], kind="rows")
    f = one(check(report(adapter=adapter(compared=comparison(base_weights=[saved]))), CODE))
    expect(f, CODE, "lm_head", "error", "1,010 vocabulary rows in the adapter, 1,000 in the base")


def test_quiet_when_the_vocabularies_agree():
    same = BaseWeight(key="base_model.model.lm_head.weight", file_shape=[1000, 64], base_shape=[1000, 64], kind=None)
    assert check(report(adapter=adapter(compared=comparison(base_weights=[same]))), CODE) == []
