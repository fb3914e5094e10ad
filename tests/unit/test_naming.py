from lora_audit.naming import did_you_mean, fold, ranges, template


def test_fold_repeated_blocks():
    names = [f"model.layers.{i}.self_attn.q_proj" for i in range(24)]
    assert fold(names) == ["model.layers.(0-23).self_attn.q_proj"]
    assert fold(["a.0.x", "a.1.x", "a.3.x", "b"]) == ["a.(0-1,3).x", "b"]


def test_fold_nested_indices():
    names = [f"layers.{i}.experts.{j}.w1" for i in range(2) for j in range(4)]
    assert fold(names) == ["layers.(0-1).experts.(0-3).w1"]
    uneven = ["layers.0.experts.0.w1", "layers.0.experts.1.w1", "layers.1.experts.0.w1"]
    assert sorted(fold(uneven)) == ["layers.(0-1).experts.0.w1", "layers.0.experts.1.w1"]


def test_ranges_and_template():
    assert ranges([0, 1, 2, 3, 7, 9, 10]) == "0-3,7,9-10"
    assert template("model.layers.7.mlp.experts.12.w1") == "model.layers.*.mlp.experts.*.w1"
    assert template("h.0") == "h.*"


def test_did_you_mean():
    assert did_you_mean("embed_token", ["embed_tokens", "lm_head", "norm"]) == ["embed_tokens"]
    assert did_you_mean("zzz", ["embed_tokens"]) == []
