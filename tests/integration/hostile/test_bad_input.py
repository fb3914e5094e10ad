"""Bad inputs: each is one stderr line, exit 2, and a valid JSON error document; inputs from other
PEFT versions are tolerated."""

from __future__ import annotations

import json
import time

import pytest
import transformers

from tests.conftest import LORA
from tests.integration.hostile.helpers import (
    QWEN,
    TINY_QWEN_CONFIG,
    _case,
    assert_bad_input,
    model_dir,
    sparse,
    strict_json,
    write,
)

# --------------------------------------------------------------------------- 1. the catalogue of bad inputs
BAD_INPUTS = [
    # The model: paths, config.json contents, the hub id offline.
    _case(lambda t: [t / "no" / "such" / "model"], "path-not-found", "no such file or directory", id="missing-path"),
    _case(lambda t: ["./models/llama"], "path-not-found", id="missing-relative-path"),
    _case(lambda t: [t], "no-config-json", "has no config.json", id="directory-without-config-json"),
    _case(lambda t: [write(t / "config.json", '{"model_type": "qwen2",')], "config-malformed", "not valid JSON",
          id="malformed-json"),
    _case(lambda t: [write(t / "config.json", "[1, 2]")], "config-malformed", id="json-list-not-object"),
    _case(lambda t: [write(t / "config.json", "[" * 100_000)], "config-malformed", "too deeply", id="json-nested-deep"),
    _case(lambda t: [model_dir(t, model_type=...)], "config-no-model-type", "has no model_type", id="no-model-type"),
    _case(lambda t: [model_dir(t, model_type=["qwen2"])], "config-malformed", "model_type", id="model-type-not-str"),
    _case(lambda t: [model_dir(t, architectures="Qwen2ForCausalLM")], "config-malformed", "architectures",
          id="architectures-not-a-list"),
    _case(lambda t: [model_dir(t, architectures=[5])], "config-malformed", "architectures",
          id="architectures-not-names"),
    _case(lambda t: [model_dir(t, model_type="llama99")], "unknown-model-type",
          f"transformers {transformers.__version__} does not know model_type 'llama99'", "newer transformers",
          id="unknown-model-type"),
    _case(lambda t: [write(t / "model.safetensors", b"\x00" * 16)], "weights-file", "weights file",
          id="weights-file-as-model"),
    _case(lambda t: [write(t / "config.json", b"\xff\xfe{}")], "config-unreadable", id="config-not-utf8"),
    _case(lambda t: ["/dev/zero"], "config-unreadable", "character device", id="endless-file-as-model"),
    _case(lambda t: [sparse(t / "config.json", 17 * 1024 * 1024)], "config-unreadable", "larger than 16 MB",
          id="config-over-16-mb"),
    _case(lambda t: ["not a hub id!"], "invalid-model-id", id="invalid-hub-id"),
    _case(lambda t: ["someone/not-bundled"], "offline-not-cached", "HF_HUB_OFFLINE", id="offline-not-cached"),
    _case(lambda t: ["someone/not-bundled", "--offline"], "offline-not-cached", id="offline-flag-not-cached"),
    _case(lambda t: [QWEN, "--revision", "v9"], "offline-not-cached", "main revision",
          id="catalogue-has-only-main"),
    # Building the model on the meta device.
    _case(lambda t: [model_dir(t, num_hidden_layers=0)], "empty-model", "num_hidden_layers=0", id="empty-model"),
    _case(lambda t: [model_dir(t, num_hidden_layers=10**9)], "too-many-layers", "num_hidden_layers=1000000000",
          id="a-billion-layers"),
    _case(lambda t: [model_dir(t, intermediate_size=0), "--targets", "gate_proj"], "zero-size-weight",
          "mlp.gate_proj.weight", id="zero-size-dimension"),
    _case(lambda t: [model_dir(t, num_attention_heads=0)], "build-failed", "Qwen2ForCausalLM", "meta device",
          id="construction-fails-on-meta"),
    _case(lambda t: [model_dir(t, hidden_size="wide")], "config-invalid", id="config-transformers-rejects"),
    _case(lambda t: [QWEN, "--model-class", "LlamaForSomething"], "unknown-model-class", id="unknown-model-class"),
    _case(lambda t: [QWEN, "--model-class", ""], "unknown-model-class", id="empty-model-class"),
    _case(lambda t: [QWEN, "--task-type", "SEQ_2_SEQ_LM"], "no-head-for-task", id="no-head-for-task"),
    # LoRA values from flags.
    _case(lambda t: [QWEN, "-r", "0"], "invalid-lora-value", "r=0", id="rank-0"),
    _case(lambda t: [QWEN, "-r", "-4"], "invalid-lora-value", "r=-4", id="rank-negative"),
    _case(lambda t: [QWEN, "-r", "99999999999999999999"], "invalid-lora-value", id="rank-beyond-any-layer"),
    _case(lambda t: [QWEN, "-r", "abc"], "usage", "'-r'", id="rank-not-a-number"),
    _case(lambda t: [QWEN, "--alpha", "-16"], "invalid-lora-value", "lora_alpha=-16", id="alpha-negative"),
    _case(lambda t: [QWEN, "--alpha", "inf"], "invalid-lora-value", "lora_alpha=inf", id="alpha-infinite"),
    _case(lambda t: [QWEN, "--alpha", "nan"], "invalid-lora-value", "lora_alpha=nan", id="alpha-nan"),
    _case(lambda t: [QWEN, "--dropout", "1.5"], "invalid-lora-value", "lora_dropout=1.5", id="dropout-above-1"),
    _case(lambda t: [QWEN, "--dropout", "1"], "invalid-lora-value", "[0, 1)", id="dropout-1"),
    _case(lambda t: [QWEN, "--dropout", "-0.1"], "invalid-lora-value", id="dropout-negative"),
    _case(lambda t: [QWEN, "--bias", "some"], "usage", "'--bias'", "lora_only", id="bias-unknown-flag"),
    _case(lambda t: [QWEN, "--task-type", "CAUSAL"], "usage", "'--task-type'", id="task-type-unknown-flag"),
    _case(lambda t: [QWEN, "--target-regex", "q_proj(("], "invalid-lora-value", "not a valid regular expression",
          id="invalid-regex"),
    _case(lambda t: [QWEN, "--targets", "q_proj", "--target-regex", ".*"], "usage", id="targets-and-regex"),
    _case(lambda t: [QWEN, "--targets", ""], "invalid-lora-value", "--targets", id="targets-empty"),
    _case(lambda t: [QWEN, "--target-regex", ""], "invalid-lora-value", id="target-regex-empty"),
    _case(lambda t: [QWEN, "--targets", "q_proj,,v_proj"], "invalid-lora-value", "empty entry", id="targets-gap"),
    _case(lambda t: [QWEN, "--layers-pattern", ","], "invalid-lora-value", "--layers-pattern",
          id="layers-pattern-only-commas"),
    _case(lambda t: [QWEN, "--layers", "5-2"], "invalid-lora-value", "runs backwards", "2-5", id="layers-backwards"),
    _case(lambda t: [QWEN, "--layers", "a-b"], "invalid-lora-value", "not a layer index", id="layers-not-numbers"),
    _case(lambda t: [QWEN, "--layers", "0-99999999"], "invalid-lora-value", "beyond any model",
          id="layers-hundred-million"),
    _case(lambda t: [QWEN, "--layers", "0-" + "9" * 5000], "invalid-lora-value", "beyond any model",
          id="layers-5000-digits"),
    _case(lambda t: [QWEN, "--rank-pattern", "q_proj=x"], "invalid-lora-value", "NAME=VALUE",
          id="rank-pattern-value-not-a-number"),
    _case(lambda t: [QWEN, "--rank-pattern", "q_proj"], "invalid-lora-value", "NAME=VALUE",
          id="rank-pattern-without-value"),
    _case(lambda t: [QWEN, "--rank-pattern", "((=8"], "invalid-lora-value", "regular expression",
          id="rank-pattern-key-invalid-regex"),
    _case(lambda t: [QWEN, "--rank-pattern", "q_proj=0"], "invalid-lora-value", "rank_pattern[q_proj]=0",
          id="rank-pattern-0"),
    _case(lambda t: [QWEN, "--alpha-pattern", "q_proj=1e999"], "invalid-lora-value", "alpha_pattern={'q_proj': inf}",
          "finite", id="alpha-pattern-infinite"),
    # LoRA values from a config file.
    _case(lambda t: [QWEN, "--config", write(t / "l.json", '{"r": 8, "bias": "foo"}')], "invalid-lora-value",
          "bias='foo'", id="file-bias-unknown"),
    _case(lambda t: [QWEN, "--config", write(t / "l.json", '{"task_type": "CAUSAL"}')], "invalid-lora-value",
          "task_type='CAUSAL'", id="file-task-type-unknown"),
    _case(lambda t: [QWEN, "--config", write(t / "l.json", '{"r": 8, "lora_alpha": Infinity}')],
          "invalid-lora-value", id="file-alpha-infinity"),
    _case(lambda t: [QWEN, "--config", write(t / "l.json", '{"r": 8, "use_dora": "yes"}')], "invalid-lora-value",
          "use_dora='yes'", id="file-switch-not-bool"),
    _case(lambda t: [QWEN, "--config", write(t / "l.json", '{"r": 8, "layers_pattern": 5}')], "invalid-lora-value",
          "layers_pattern=5", id="file-layers-pattern-not-a-name"),
    _case(lambda t: [QWEN, "--config", write(t / "l.json", '{"target_modules": [1, 2]}')], "invalid-lora-value",
          id="file-targets-not-names"),
    _case(lambda t: [QWEN, "--config", write(t / "l.json", '{"rank_pattern": "q_proj=8"}')], "invalid-lora-value",
          id="file-rank-pattern-not-a-mapping"),
    _case(lambda t: [QWEN, "--config", write(t / "l.json", '{"target_modules": ".*q", "layers_to_transform": [0]}')],
          "invalid-lora-config", "PEFT rejects", id="file-peft-rejects"),
    # Found by tests/integration/cli/test_fuzz.py: PEFT embeds these names in regular expressions of its own.
    _case(lambda t: [QWEN, "--modules-to-save", "("], "invalid-lora-value", "as PEFT reads it",
          id="modules-to-save-breaks-peft-regex"),
    _case(lambda t: [QWEN, "--targets", "q_proj", "--layers", "0", "--layers-pattern", "(?P<idx>layers)"],
          "invalid-lora-value", "as PEFT reads it", id="layers-pattern-breaks-peft-regex"),
    _case(lambda t: [QWEN, "--targets", "q_proj", "--rank-pattern", "(?i)q_proj=4"], "invalid-lora-value",
          "as PEFT reads it", id="rank-pattern-key-breaks-peft-regex"),
    # Found by tests/integration/cli/test_fuzz.py: the report repeats the config, and JSON cannot write inf.
    _case(lambda t: [QWEN, "--config", write(t / "l.json", '{"init_lora_weights": [Infinity]}')],
          "invalid-lora-value", "finite", id="file-infinity-in-any-field"),
    _case(lambda t: [QWEN, "--config", write(t / "l.json", '{"init_lora_weights": ' + "[" * 900 + "]" * 900 + "}")],
          "lora-config-malformed", "too deeply", id="file-nested-deeper-than-the-stack"),
    # Config files that are missing, broken, or not LoRA configs.
    _case(lambda t: [QWEN, "--config", t / "missing.yaml"], "lora-config-not-found", id="config-file-missing"),
    _case(lambda t: [QWEN, "--config", t], "lora-config-not-found", "adapter_config.json",
          id="config-dir-without-adapter-config"),
    _case(lambda t: [QWEN, "--config", write(t / "l.json", "{r: 8}")], "lora-config-malformed", "not valid JSON",
          id="config-malformed-json"),
    _case(lambda t: [QWEN, "--config", write(t / "l.yaml", "r: [8\n")], "lora-config-malformed", "not valid YAML",
          id="config-malformed-yaml"),
    _case(lambda t: [QWEN, "--config", write(t / "l.yaml", "r: !!python/object/apply:os.system [echo hi]\n")],
          "lora-config-malformed", id="config-yaml-python-tag"),
    _case(lambda t: [QWEN, "--config", write(t / "l.json", "[" * 100_000)], "lora-config-malformed", "too deeply",
          id="config-json-nested-deep"),
    _case(lambda t: [QWEN, "--config", write(t / "l.yaml", "a: " + "[" * 100_000)], "lora-config-malformed",
          "too deeply", id="config-yaml-nested-deep"),
    _case(lambda t: [QWEN, "--config", write(t / "l.yaml", "- r\n- 8\n")], "lora-config-invalid", "not a mapping",
          id="config-yaml-list"),
    _case(lambda t: [QWEN, "--config", write(t / "l.yaml", b"r: \xff\n")], "lora-config-unreadable",
          id="config-not-utf8"),
    _case(lambda t: [QWEN, "--config", model_dir(t) / "config.json"], "not-a-lora-config", "pass it as MODEL",
          id="model-config-as-lora-config"),
    _case(lambda t: [QWEN, "--config", write(t / "m.json", '{"peft_type": "LOHAA", "target_modules": ["k"]}')],
          "unknown-method", "LOHAA", id="unknown-peft-type"),
    _case(lambda t: [QWEN, "--method", "xlora"], "method-not-auditable", "X-LoRA", id="xlora-method"),
    _case(lambda t: [QWEN, "--method", "loha", "--dropout", "0.1"], "invalid-lora-config", "--dropout",
          id="lora-flag-another-method-lacks"),
    _case(lambda t: [QWEN, "--set", "r"], "usage", "--set", id="set-without-value"),
    # The command line.
    _case(lambda t: [QWEN, "--rnak", "8"], "usage", "--rnak", id="unknown-flag"),
    _case(lambda t: [QWEN, "--select", "LA999"], "unknown-rule", "LA999", id="select-unknown-rule"),
    _case(lambda t: [QWEN, "--ignore", "LA999:q_proj"], "unknown-rule", "LA999", id="ignore-unknown-rule"),
    _case(lambda t: [QWEN, "--ignore", ","], "usage", "--ignore", id="ignore-only-commas"),
    _case(lambda t: [QWEN, "--json", ""], "usage", "--json", id="json-empty-path"),
    _case(lambda t: [QWEN, "--json", t / "no-such-dir" / "r.json"], "json-unwritable", id="json-dir-missing"),
    _case(lambda t: [QWEN, "--json", t], "json-unwritable", id="json-path-is-a-directory"),
    _case(lambda t: [QWEN, "--json", "a\x00b.json"], "json-unwritable", id="json-path-with-nul"),
    _case(lambda t: ["~no-such-user-lora-audit/model"], "path-not-found", id="unknown-home-directory"),
    _case(lambda t: ["./" + "x" * 300], "path-not-found", id="file-name-too-long"),
]


@pytest.mark.parametrize("setup, code, fragments", BAD_INPUTS)
def test_bad_input_is_one_line_exit_2_and_a_valid_error_document(cli, validate, tmp_path, setup, code, fragments):
    assert_bad_input(cli, validate, [str(a) for a in setup(tmp_path)], code, *fragments)


def _alias_bomb(field: str) -> str:
    """Eight levels of nine aliases: 86 million strings once expanded, under ``field``."""
    levels = ['a: &a ["x", "x"]'] + [
        f"{b}: &{b} [{', '.join(['*' + a] * 9)}]" for a, b in zip("abcdefgh", "bcdefghi", strict=True)
    ]
    return "\n".join(levels) + f"\nr: 8\n{field}: *i\n"


@pytest.mark.parametrize("field", ["target_modules", "init_lora_weights", "an_unknown_field"])
def test_a_yaml_alias_bomb_is_refused_before_it_is_built(cli, validate, tmp_path, field):
    """The node budget holds for the whole document, whatever field the bomb sits under (issue 11, item 8)."""
    bomb = write(tmp_path / "bomb.yaml", _alias_bomb(field))
    started = time.monotonic()
    line = assert_bad_input(cli, validate, [QWEN, "--config", bomb], "lora-config-too-large", "aliases expanded")
    assert len(line) < 500
    assert time.monotonic() - started < 30  # two runs: counted on the node graph, never expanded


def test_a_recursive_yaml_alias_is_refused(cli, validate, tmp_path):
    config = write(tmp_path / "loop.yaml", "r: 8\ninit_lora_weights: &a [*a]\n")
    assert_bad_input(cli, validate, [QWEN, "--config", config], "lora-config-too-large")


@pytest.mark.parametrize(
    "repo, published, code, fragment",
    [
        ("someone/does-not-exist", None, "model-not-found", "or it is private"),
        ("someone/private", {"config": TINY_QWEN_CONFIG, "private": True}, "model-not-found", "HF_TOKEN"),
        ("someone/gated", {"config": TINY_QWEN_CONFIG, "gated": True}, "gated-repo", "licence"),
        ("someone/no-config", {"files": {"README.md": b"hi"}}, "no-config-json", "no config.json"),
    ],
)
def test_hub_repos_that_do_not_give_config_json(cli, validate, fake_hub, repo, published, code, fragment):
    # A gated repository that IS bundled falls back to the catalogue (test_source.py); this one is not.
    if published is not None:
        fake_hub.add(repo, **published)
    assert_bad_input(cli, validate, [repo], code, fragment)
    # without config.json, a diffusers pipeline's model_index.json is the one other file asked for
    expected = {"config.json", "model_index.json"} if code == "no-config-json" else {"config.json"}
    assert set(fake_hub.requested_files) == expected


def test_hub_revision_that_does_not_exist(cli, validate, fake_hub):
    fake_hub.add("someone/tiny", TINY_QWEN_CONFIG)
    assert_bad_input(cli, validate, ["someone/tiny", "--revision", "v9"], "revision-not-found", "--revision")


# --------------------------------------------------------------------------- tolerated: other PEFT versions
OLD_PEFT_ADAPTER = {  # as PEFT 0.2 saved it: enable_lora and merge_weights are long gone
    "base_model_name_or_path": "Qwen/Qwen2.5-0.5B",
    "bias": "none",
    "enable_lora": None,
    "fan_in_fan_out": False,
    "inference_mode": True,
    "lora_alpha": 32,
    "lora_dropout": 0.05,
    "merge_weights": False,
    "modules_to_save": None,
    "peft_type": "LORA",
    "r": 8,
    "target_modules": ["q_proj", "v_proj"],
    "task_type": "CAUSAL_LM",
}


@pytest.mark.parametrize(
    "adapter, unknown",
    [
        (LORA / "newer-peft-adapter_config.json", ["another_future_field", "lora_shiny_new_option"]),
        ("older-peft", ["enable_lora", "merge_weights"]),
    ],
    ids=["newer-peft", "older-peft"],
)
def test_adapter_configs_from_other_peft_versions_are_audited(cli, validate, tmp_path, adapter, unknown):
    if adapter == "older-peft":  # as an adapter directory, the way PEFT saved it
        adapter = tmp_path / "adapter"
        write(adapter / "adapter_config.json", json.dumps(OLD_PEFT_ADAPTER))
    result = cli(QWEN, "--config", adapter, "--format", "json")
    assert result.code in (0, 1), result.err
    report = validate(strict_json(result.out))
    assert report["unknown_config_fields"] == unknown
    assert report["applied"]


@pytest.mark.parametrize("args", [["--alpha", "1e-7"], ["--alpha-pattern", "q_proj=1e-7"]])
def test_alpha_so_small_that_the_scaling_rounds_to_zero(cli, args):
    """Found by tests/integration/cli/test_fuzz.py: LA018 once grouped scalings rounded to 6 decimals, and
    divided by 0."""
    result = cli(QWEN, "--targets", "q_proj,v_proj", *args, "--format", "json")
    assert result.code in (0, 1) and "Traceback" not in result.err
    assert "LA018" in {f["code"] for f in result.json()["findings"]}
