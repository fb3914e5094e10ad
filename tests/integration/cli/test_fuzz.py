"""Fuzzing the command line (issue 4): whatever flags, values and config files it is given,
lora-audit exits 0, 1 or 2, never prints a traceback, explains an exit 2 in one line, and every
JSON document it prints or writes validates against the shipped schema.

The audits run in this process (the ``cli`` fixture), on small models, so a run of each
property stays in the tens of seconds. A crash found here is a bug: it is fixed in lora_audit/ and its
example kept in tests/integration/hostile/test_hostile.py as a regular test.
"""

from __future__ import annotations

import json
import os

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.conftest import TINY

#: LORA_AUDIT_FUZZ_EXAMPLES=5000 pytest tests/integration/cli/test_fuzz.py fuzzes longer than the suite's default.
FUZZ_SETTINGS = settings(
    max_examples=int(os.environ.get("LORA_AUDIT_FUZZ_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

MODELS = [str(TINY / "qwen2"), str(TINY / "gpt2"), "Qwen/Qwen2.5-0.5B"]
#: Names from the fuzzed models (Qwen2 and GPT-2), from other architectures, and from nowhere.
MODULE_NAMES = [
    "q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj", "lm_head", "embed_tokens",
    "c_attn", "c_proj", "c_fc", "wte", "attn", "mlp", "self_attn", "layers", "h", "query", "nope", "all-linear",
]
TASK_TYPES = ["CAUSAL_LM", "SEQ_2_SEQ_LM", "SEQ_CLS", "TOKEN_CLS", "QUESTION_ANS", "FEATURE_EXTRACTION"]

# Any text a shell could pass, without lone surrogates (they cannot be encoded to write a file).
garbage = st.text(st.characters(blacklist_categories=["Cs"]), max_size=12)
names = st.one_of(st.sampled_from(MODULE_NAMES), garbage)
name_lists = st.lists(names, max_size=4).map(",".join)
regexes = st.one_of(
    st.sampled_from([r".*\.q_proj", r".*\.(q|v)_proj", r".*attn.*", ".*", "((", "[", r"model\.layers\.0\..*"]),
    garbage,
)
numbers = st.one_of(
    st.integers(-3, 300).map(str),
    st.floats(min_value=1e-12, max_value=1e6).map(str),
    st.sampled_from(["0", "-1", "1.0", "0.5", "1e999", "inf", "-inf", "nan", "abc", "", "99999999999999999999"]),
    # Extremes (issue 11): subnormal, the largest float, numbers past int64 and past Python's digit limit.
    st.sampled_from(["5e-324", "1e-310", "1.7976931348623157e308", "-0.0", "9" * 40, "9" * 5000, "0x1f"]),
    st.integers(min_value=-(10**60), max_value=10**60).map(str),
)
layer_specs = st.one_of(
    st.lists(st.integers(0, 30), min_size=1, max_size=3).map(lambda xs: ",".join(map(str, xs))),
    st.sampled_from(["0-1", "1-0", "5-2", "a-b", "0-99999999", "", "-1", "0,,1"]),
    garbage,
)
patterns = st.lists(st.tuples(names, numbers).map("=".join), min_size=1, max_size=3).map(",".join) | garbage

FLAGS_WITH_VALUES = st.one_of(
    st.tuples(st.just("--targets"), name_lists),
    st.tuples(st.just("--target-regex"), regexes),
    st.tuples(st.just("--target-parameters"), name_lists),
    st.tuples(st.sampled_from(["-r", "--alpha", "--dropout"]), numbers),
    st.tuples(st.just("--bias"), st.sampled_from(["none", "all", "lora_only"]) | garbage),
    st.tuples(st.sampled_from(["--modules-to-save", "--exclude-modules", "--layers-pattern"]), name_lists),
    st.tuples(st.just("--layers"), layer_specs),
    st.tuples(st.sampled_from(["--rank-pattern", "--alpha-pattern"]), patterns),
    st.tuples(st.just("--task-type"), st.sampled_from(TASK_TYPES + ["seq_cls", "CAUSAL"]) | garbage),
    st.tuples(st.just("--model-class"), st.sampled_from(["AutoModel", "Qwen2ForSequenceClassification"]) | garbage),
    st.tuples(st.just("--fail-on"), st.sampled_from(["error", "warning", "info", "never"]) | garbage),
    st.tuples(st.sampled_from(["--select", "--ignore"]), st.sampled_from(["LA001", "target-unmatched"]) | garbage),
    st.tuples(st.just("--revision"), st.sampled_from(["main", "v1"]) | garbage),
)
SWITCHES = ["--dora", "--rslora", "--fan-in-fan-out", "--tree", "--coverage", "--offline"]

#: Field names of PEFT's LoraConfig (plus bookkeeping ones and some from other PEFT versions).
LORA_FIELDS = [
    "r", "lora_alpha", "lora_dropout", "bias", "target_modules", "target_parameters", "exclude_modules",
    "modules_to_save", "layers_to_transform", "layers_pattern", "rank_pattern", "alpha_pattern", "use_dora",
    "use_rslora", "fan_in_fan_out", "task_type", "init_lora_weights", "peft_type", "inference_mode",
    "base_model_name_or_path", "revision", "enable_lora", "merge_weights",
]
json_values = st.recursive(
    st.one_of(
        st.none(), st.booleans(), st.integers(-3, 300), st.floats(min_value=1e-3, max_value=1e6), names,
        st.sampled_from([-1.5, 0.0, float("inf"), float("nan")]),
        # Extremes (issue 11): past int64, huge, subnormal, the largest float.
        st.sampled_from([2**63, -(2**63) - 1, 10**400, 5e-324, 1.7976931348623157e308, -0.0]),
        st.integers(min_value=-(10**60), max_value=10**60),
    ),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(names, inner, max_size=3),
    max_leaves=8,
)
lora_dicts = st.dictionaries(st.sampled_from(LORA_FIELDS) | garbage, json_values, max_size=6)
config_texts = st.one_of(
    lora_dicts.map(json.dumps).map(lambda text: (".json", text)),
    lora_dicts.map(lambda d: yaml.safe_dump(d, allow_unicode=True)).map(lambda text: (".yaml", text)),
    st.tuples(st.sampled_from([".json", ".yaml", ".yml", ".txt"]), garbage),
    # Numbers only YAML can write (hex and octal have no digit limit), or that no parser can read.
    st.tuples(
        st.sampled_from([".yaml", ".json"]),
        st.tuples(st.sampled_from(["r", "lora_alpha", "lora_dropout", "init_lora_weights", "x"]),
                  st.sampled_from(["0x" + "f" * 5000, "0o" + "7" * 3000, "9" * 5000, "1e999", ".nan", "-.inf"]))
        .map(lambda kv: f"{kv[0]}: {kv[1]}\n"),
    ),
)


TINY_QWEN_CONFIG = json.loads((TINY / "qwen2" / "config.json").read_text())
#: Keys of a model config.json worth breaking: sizes, the class and type, remote code, sub-configs.
MODEL_CONFIG_KEYS = sorted(TINY_QWEN_CONFIG) + ["auto_map", "text_config", "n_layer", "num_layers", "id2label"]
# A value of ... deletes the key.
config_changes = st.dictionaries(st.sampled_from(MODEL_CONFIG_KEYS) | garbage, json_values | st.just(...), max_size=3)
model_configs = config_changes.map(
    lambda changes: {k: v for k, v in {**TINY_QWEN_CONFIG, **changes}.items() if v is not ...}
)


def strict_json(text: str):
    def refuse(constant):
        raise ValueError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


def check_run(result, validate, as_json: bool, json_path) -> None:
    """The promises every run keeps, whatever it was given."""
    assert result.code in (0, 1, 2), (result.code, result.err)
    event(f"exit {result.code}")  # pytest --hypothesis-show-statistics: how many runs got as far as a report
    assert "Traceback" not in result.err and "Traceback" not in result.out
    if result.code == 2:
        lines = result.err.splitlines()
        assert len(lines) == 1 and lines[0].startswith("lora-audit: error: "), result.err
    if as_json:
        document = validate(strict_json(result.out))
        assert ("error" in document) == (result.code == 2)
        if "ok" in document:
            assert document["ok"] == (result.code == 0)
    if json_path is not None and json_path.exists():
        validate(strict_json(json_path.read_text(encoding="utf-8")))


@pytest.mark.slow  # 4 s of fuzzing; its finds are regular tests in hostile/
@FUZZ_SETTINGS
@given(
    model=st.sampled_from(MODELS),
    flags=st.lists(FLAGS_WITH_VALUES, max_size=5),
    switches=st.sets(st.sampled_from(SWITCHES), max_size=3),
    as_json=st.booleans(),
    write_json=st.booleans(),
)
def test_random_flags(cli, validate, tmp_path, model, flags, switches, as_json, write_json):
    json_path = tmp_path / "report.json"
    json_path.unlink(missing_ok=True)
    args = [model, *(item for pair in flags for item in pair), *sorted(switches)]
    args += ["--format", "json"] if as_json else []
    args += ["--json", str(json_path)] if write_json else []
    check_run(cli(*args), validate, as_json, json_path if write_json else None)


@pytest.mark.slow  # 1 s of fuzzing; its finds are regular tests in hostile/
@FUZZ_SETTINGS
@given(
    model=st.sampled_from(MODELS),
    config=config_texts,
    flags=st.lists(FLAGS_WITH_VALUES, max_size=2),
    as_json=st.booleans(),
)
def test_random_config_files(cli, validate, tmp_path, model, config, flags, as_json):
    suffix, text = config
    config_path = tmp_path / f"lora{suffix}"
    config_path.write_text(text, encoding="utf-8")
    args = [model, "--config", str(config_path), *(item for pair in flags for item in pair)]
    args += ["--format", "json"] if as_json else []
    check_run(cli(*args), validate, as_json, None)


@pytest.mark.slow  # 4 s of fuzzing; its finds are regular tests in hostile/
@FUZZ_SETTINGS
@given(config=model_configs, targets=st.sampled_from(["q_proj", "all-linear", "q_proj,c_attn"]), as_json=st.booleans())
def test_random_model_configs(cli, validate, tmp_path, config, targets, as_json):
    """A hand-edited or truncated config.json: the model builds, or the one-line error says why not."""
    (tmp_path / "model").mkdir(exist_ok=True)
    (tmp_path / "model" / "config.json").write_text(json.dumps(config), encoding="utf-8")
    args = [tmp_path / "model", "--targets", targets] + (["--format", "json"] if as_json else [])
    check_run(cli(*args), validate, as_json, None)


#: Things that are not config files (issue 11): none may block, none may be a traceback.
SPECIAL_FILES = ["fifo", "socket", "/dev/null", "/dev/zero", "directory", "empty", "symlink-loop", "dangling-link"]


def _special_file(kind: str, path) -> str:
    import socket

    if kind.startswith("/dev/"):
        return kind
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "socket":
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.bind(str(path))
        sock.close()  # the socket file stays; nobody listens
    elif kind == "directory":
        path.mkdir()
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "symlink-loop":
        path.symlink_to(path)
    elif kind == "dangling-link":
        path.symlink_to(path.parent / "nowhere")
    return str(path)


@FUZZ_SETTINGS
@given(kind=st.sampled_from(SPECIAL_FILES), as_config=st.booleans(), name=st.sampled_from(["config.json", "l.yaml"]),
       as_json=st.booleans())
def test_special_files_never_block(cli, validate, tmp_path_factory, monkeypatch, kind, as_config, name, as_json):
    from lora_audit.model import local as source

    monkeypatch.setattr(source, "PIPE_SECONDS", 0.3)
    path = _special_file(kind, tmp_path_factory.mktemp("special") / name)
    args = [MODELS[2], "--config", path] if as_config else [path]
    args += ["--format", "json"] if as_json else []
    result = cli(*args)
    check_run(result, validate, as_json, None)
    assert result.code == 2, (kind, result.err)
