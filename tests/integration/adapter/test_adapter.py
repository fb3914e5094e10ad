"""Saved adapters against their base: real adapters written by PEFT's save_pretrained at test time,
one correct and one per failure, each giving its finding; the header is all that is read."""

from __future__ import annotations

import json
import pickle
import shutil
import struct
from pathlib import Path

import pytest

from lora_audit import AuditError, audit
from tests.conftest import TINY

QWEN = TINY / "qwen2"
BERT = TINY / "bert-cls"
ADAPTER_CODES = {f"LA04{i}" for i in range(10)}
#: code -> (base, adapter case, audit kwargs): each adapter rule fires on a real saved adapter (the
#: quiet case of every one of them is the correct adapters, which give no LA04x finding)
ADAPTER_FIRES = {
    "LA040": (QWEN, "renamed", {}),
    "LA041": (BERT, "headless", {}),
    "LA042": (QWEN, "wrong-rank", {}),
    "LA043": (QWEN, "resized", {}),
    "LA044": (QWEN, "bigger", {}),
    "LA045": ("Qwen/Qwen2.5-0.5B", "correct", {"offline": True}),
    "LA046": (QWEN, "truncated", {}),
    "LA047": (QWEN, "pickled", {}),
}


def _save(directory: Path, base: Path, lora: dict, *, resize: int | None = None, config: dict | None = None) -> Path:
    """A real adapter: a small materialised model, PEFT's get_peft_model, save_pretrained."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoConfig, AutoModelForCausalLM, AutoModelForSequenceClassification

    if config is not None:
        base = directory.parent / f"{directory.name}-base"
        base.mkdir()
        (base / "config.json").write_text(json.dumps({**json.loads((QWEN / "config.json").read_text()), **config}))
    model_config = AutoConfig.from_pretrained(base)
    torch.manual_seed(0)
    cls = AutoModelForSequenceClassification if "bert" in base.name else AutoModelForCausalLM
    model = cls.from_config(model_config)
    model.config.name_or_path = str(base)
    if resize is not None:
        model.resize_token_embeddings(resize)
    peft_model = get_peft_model(model, LoraConfig(**lora))
    peft_model.save_pretrained(directory)
    return directory


def _header(path: Path) -> tuple[dict, bytes]:
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    return json.loads(raw[8 : 8 + n]), raw[8 + n :]


def _write(path: Path, header: dict, data: bytes) -> None:
    blob = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(blob)) + blob + data)


@pytest.fixture(scope="module")
def adapters(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("adapters")
    out = {}
    attention = {"r": 4, "target_modules": ["q_proj", "v_proj"]}
    out["correct"] = _save(root / "correct", QWEN, {**attention, "modules_to_save": ["lm_head"]})
    # every key kind PEFT writes: DoRA magnitudes, an adapted embedding, trainable-token deltas
    out["kinds"] = _save(root / "kinds", QWEN, {"r": 4, "target_modules": ["q_proj", "embed_tokens", "down_proj"],
                                                "use_dora": True, "rank_pattern": {"down_proj": 2}})
    out["tokens"] = _save(root / "tokens", QWEN, {**attention, "trainable_token_indices": [1, 5, 9]})
    out["resized"] = _save(root / "resized", QWEN, {**attention, "modules_to_save": ["lm_head"]}, resize=320)
    out["bigger"] = _save(root / "bigger", QWEN, attention, config={"hidden_size": 128, "num_hidden_layers": 3,
                                                                    "intermediate_size": 256})
    out["cls"] = _save(root / "cls", BERT, {"r": 4, "target_modules": ["query", "value"], "task_type": "SEQ_CLS"})

    renamed = root / "renamed"
    shutil.copytree(out["correct"], renamed)
    header, data = _header(renamed / "adapter_model.safetensors")
    header = {k.replace("q_proj", "query"): v for k, v in header.items()}
    _write(renamed / "adapter_model.safetensors", header, data)
    out["renamed"] = renamed

    wrong_rank = root / "wrong-rank"
    _save(wrong_rank, QWEN, {"r": 8, "target_modules": ["q_proj", "v_proj"]})
    config = json.loads((wrong_rank / "adapter_config.json").read_text())
    (wrong_rank / "adapter_config.json").write_text(json.dumps({**config, "r": 4}))
    out["wrong-rank"] = wrong_rank

    headless = root / "headless"
    shutil.copytree(out["cls"], headless)
    header, data = _header(headless / "adapter_model.safetensors")
    assert any(k.startswith("base_model.model.classifier.") for k in header)  # PEFT saved the SEQ_CLS head
    _write(headless / "adapter_model.safetensors",
           {k: v for k, v in header.items() if not k.startswith("base_model.model.classifier.")}, data)
    out["headless"] = headless

    truncated = root / "truncated"
    shutil.copytree(out["correct"], truncated)
    header, data = _header(truncated / "adapter_model.safetensors")
    _write(truncated / "adapter_model.safetensors", header, data[:100])
    out["truncated"] = truncated

    pickled = root / "pickled"
    pickled.mkdir()
    shutil.copy(out["correct"] / "adapter_config.json", pickled)
    (pickled / "adapter_model.bin").write_bytes(b"\x80\x04K\x01.")  # never opened
    out["pickled"] = pickled
    return out


@pytest.mark.parametrize("code", sorted(ADAPTER_FIRES))
def test_adapter_rule_fires_on_a_real_adapter(adapters, code, validate):
    from lora_audit.rules import BY_CODE

    base, case, kwargs = ADAPTER_FIRES[code]
    report = audit(str(base), adapter=adapters[case], **kwargs)
    validate(report.to_dict())
    fired = [f for f in report.findings if f.code == code]
    assert fired and all(f.message and f.hint and f.name == BY_CODE[code].name for f in fired)


def _codes(report) -> list[str]:
    return [f.code for f in report.findings if f.code in ADAPTER_CODES]


def _one(report, code):
    found = [f for f in report.findings if f.code == code]
    assert len(found) == 1, [(f.code, f.subject, f.message) for f in report.findings]
    return found[0]


@pytest.mark.parametrize("name", ["correct", "kinds", "tokens"])
def test_correct_adapters_give_no_finding_and_every_key_matches(adapters, name):
    report = audit(str(QWEN), adapter=adapters[name])
    facts = report.adapter
    assert _codes(report) == []
    compared = facts.comparison
    assert facts.compared and compared.missing_count == compared.unexpected_count == compared.mismatched_count == 0
    # embedding weights save_pretrained stores beside an adapted embedding are base weights, of the base's shape
    saved_base = compared.base_weights
    assert all(b.file_shape == b.base_shape for b in saved_base)
    assert [b.key for b in saved_base] == (
        ["base_model.model.model.embed_tokens.base_layer.weight"] if name == "kinds" else [])
    assert compared.matched == compared.expected_tensors == facts.table.tensors - len(saved_base)
    # the adapter holds exactly the parameters PEFT trains for its config (inference_mode: true is not applied)
    base_weight_params = sum(b.file_shape[0] * b.file_shape[1] for b in saved_base)
    assert facts.table.params - base_weight_params == compared.expected_params == report.params.trainable > 0


def test_correct_classification_adapter_has_its_head(adapters):
    report = audit(str(BERT), adapter=adapters["cls"])
    assert _codes(report) == []
    assert report.adapter.comparison.matched == report.adapter.table.tensors
    # the saved config lists classifier and score because PEFT added them for SEQ_CLS: not the user's typos
    assert json.loads((adapters["cls"] / "adapter_config.json").read_text())["modules_to_save"] == ["classifier",
                                                                                                    "score"]
    assert not [f for f in report.findings if f.severity == "error"], report.findings
    assert {s.pattern: s.origin for s in report.modules_to_save} == {"classifier": "task_type", "score": "task_type"}


def test_same_base_by_another_path_is_the_same_base(adapters, monkeypatch):
    monkeypatch.chdir(QWEN.parent.parent)
    report = audit("tiny/qwen2/", adapter=adapters["correct"])
    assert report.adapter.base_names_match and "LA045" not in _codes(report)


def test_resized_vocabulary(adapters):
    report = audit(str(QWEN), adapter=adapters["resized"])
    found = [f for f in report.findings if f.code == "LA043"]
    # the lm_head copy, and the embedding save_pretrained stored because the vocabulary changed
    assert {f.subject for f in found} == {"lm_head", "model.embed_tokens"}
    for finding in found:
        assert "320 vocabulary rows in the adapter, 256 in the base" in finding.message
        assert "resize_token_embeddings(320)" in finding.hint
    assert set(_codes(report)) == {"LA043"}


def test_another_base_size(adapters):
    report = audit(str(QWEN), adapter=adapters["bigger"])
    finding = _one(report, "LA044")
    assert "hidden size 128 and 3 layers" in finding.message and "64 and 2 adapted layers" in finding.message
    assert set(_codes(report)) <= {"LA044", "LA045"}


def test_wrong_base_names_bundled_models_with_the_shapes(adapters):
    report = audit("Qwen/Qwen2.5-0.5B", adapter=adapters["correct"], offline=True)
    assert "hidden size 64 and 2 layers" in _one(report, "LA044").message
    assert _one(report, "LA045").subject == str(QWEN)


def test_renamed_keys(adapters):
    report = audit(str(QWEN), adapter=adapters["renamed"])
    unexpected = [f for f in report.findings if f.code == "LA040"]
    assert {f.subject for f in unexpected} == {
        "model.layers.(0-1).self_attn.query.lora_A.weight", "model.layers.(0-1).self_attn.query.lora_B.weight"}
    assert "silently drops" in unexpected[0].message
    assert "did you mean model.layers." in unexpected[0].hint and "q_proj" in unexpected[0].hint
    missing = [f for f in report.findings if f.code == "LA041"]
    assert {f.subject for f in missing} == {
        "model.layers.(0-1).self_attn.q_proj.lora_A.weight", "model.layers.(0-1).self_attn.q_proj.lora_B.weight"}
    assert report.adapter.comparison.unexpected_count == report.adapter.comparison.missing_count == 4


def test_wrong_rank_in_the_file(adapters):
    report = audit(str(QWEN), adapter=adapters["wrong-rank"])
    found = [f for f in report.findings if f.code == "LA042"]
    assert len(found) == 4  # q_proj and v_proj, A and B, each folded over both layers
    assert all("rank 8 in the file, PEFT gives r=4" in f.message for f in found)
    assert all("to 8" in f.hint for f in found)
    assert set(_codes(report)) == {"LA042"}


def test_missing_modules_to_save_head(adapters):
    report = audit(str(BERT), adapter=adapters["headless"])
    found = [f for f in report.findings if f.code == "LA041"]
    assert {f.subject for f in found} == {"classifier.weight", "classifier.bias"}
    assert all("modules_to_save copy of classifier" in f.message for f in found)
    assert set(_codes(report)) == {"LA041"}


def test_garbage_or_truncated_data_still_audits(adapters, tmp_path):
    """Only the header is read: garbage data changes nothing; a cut-off file is reported, not read."""
    good = audit(str(QWEN), adapter=adapters["correct"]).adapter
    garbage = tmp_path / "garbage"
    shutil.copytree(adapters["correct"], garbage)
    weights = garbage / "adapter_model.safetensors"
    header, data = _header(weights)
    _write(weights, header, b"\xff" * len(data))
    report = audit(str(QWEN), adapter=garbage)
    assert _codes(report) == [] and report.adapter.comparison.matched == good.comparison.matched

    _write(weights, header, data[:100])
    report = audit(str(QWEN), adapter=garbage)
    assert report.adapter.comparison.matched == good.comparison.matched and report.adapter.table.truncated
    assert "100 of" in _one(report, "LA046").message


def test_header_is_read_without_touching_the_data(adapters, monkeypatch):
    """The reader asks the file for 8 + N bytes and no more."""
    from lora_audit.adapter import header as header_module

    reads = []

    class Spy:
        def __init__(self, handle):
            self.handle = handle

        def read(self, n=-1):
            reads.append(n)
            return self.handle.read(n)

        def __getattr__(self, name):
            return getattr(self.handle, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.handle.close()

    real_open = header_module.open_regular_binary  # the guarded open (lora_audit/guards/files.py)
    monkeypatch.setattr(header_module, "open_regular_binary", lambda path: Spy(real_open(path)))
    path = adapters["correct"] / "adapter_model.safetensors"
    table = header_module.read_local_header(path)
    (n,) = struct.unpack("<Q", path.read_bytes()[:8])
    assert reads == [8, n] and table.file_bytes == path.stat().st_size


def test_pickle_adapter_is_never_unpickled(adapters, tmp_path):
    directory = tmp_path / "pickled"
    directory.mkdir()
    shutil.copy(adapters["correct"] / "adapter_config.json", directory)
    marker = tmp_path / "unpickled"

    class Payload:
        def __reduce__(self):
            return (Path.touch, (marker,))

    (directory / "adapter_model.bin").write_bytes(pickle.dumps(Payload()))
    report = audit(str(QWEN), adapter=directory)
    assert not marker.exists()
    finding = _one(report, "LA047")
    assert "never unpickles" in finding.message and "weights_only=True" in finding.hint
    assert report.adapter.format == "pickle" and not report.adapter.inspected
    assert report.params.trainable > 0  # the config is still audited


@pytest.mark.parametrize(
    ("keys", "config", "words"),
    [
        (["lora_unet_down_blocks_0_attentions_0_proj_in.lora_down.weight"], None, "kohya"),
        (["unet.down_blocks.0.attentions.0.to_q.lora_A.weight"], None, "diffusers"),
        (["model.layers.0.self_attn.q_proj.lora_a"], {"fine_tune_type": "lora", "lora_parameters": {"rank": 8}},
         "MLX-LM"),
    ],
)
def test_other_lora_formats_are_named_not_misread(tmp_path, keys, config, words):
    _write(tmp_path / "adapter_model.safetensors",
           {k: {"dtype": "F32", "shape": [4, 64], "data_offsets": [0, 1024]} for k in keys}, b"\0" * 1024)
    if config is not None:
        (tmp_path / "adapter_config.json").write_text(json.dumps(config))
    with pytest.raises(AuditError) as info:
        audit(str(QWEN), adapter=tmp_path / "adapter_model.safetensors")
    assert info.value.code == "adapter-format-unsupported" and words in info.value.message


@pytest.mark.parametrize(
    ("setup", "code"),
    [
        (lambda d: None, "adapter-weights-not-found"),
        (lambda d: (d / "adapter_model.safetensors").write_bytes(b"\x10\0\0\0\0\0\0\0{not json}"), "adapter-malformed"),
        (lambda d: (d / "adapter_model.safetensors").write_bytes(struct.pack("<Q", 1 << 40)), "adapter-malformed"),
        (lambda d: (d / "adapter_model.safetensors").write_bytes(b"\1\2"), "adapter-malformed"),
    ],
)
def test_broken_adapter_directories(adapters, tmp_path, setup, code):
    shutil.copy(adapters["correct"] / "adapter_config.json", tmp_path)
    setup(tmp_path)
    with pytest.raises(AuditError) as info:
        audit(str(QWEN), adapter=tmp_path)
    assert info.value.code == code


def test_weights_without_config_and_config_clash(adapters, tmp_path):
    shutil.copy(adapters["correct"] / "adapter_model.safetensors", tmp_path)
    with pytest.raises(AuditError) as info:
        audit(str(QWEN), adapter=tmp_path / "adapter_model.safetensors")
    assert info.value.code == "adapter-config-not-found"
    with pytest.raises(AuditError) as info:
        audit(str(QWEN), adapter=adapters["correct"], config_file=adapters["correct"])
    assert info.value.code == "usage"


# --------------------------------------------------------------------------- the command line
def test_cli_adapter_command_takes_the_base_from_the_config(cli, adapters):
    result = cli("adapter", adapters["correct"], "--format", "json")
    assert result.code == 0, result.err
    data = result.json()
    assert data["model"]["name"] == str(QWEN) and data["adapter"]["matched"] == 9


def test_cli_base_wins_over_base_model_name_or_path(cli, adapters):
    result = cli("adapter", adapters["correct"], "--base", BERT, "--format", "json")
    assert result.json()["model"]["class_name"] == "BertForSequenceClassification"
    result = cli(BERT, "--adapter", adapters["correct"], "--format", "json")
    codes = {f["code"] for f in result.json()["findings"]}
    assert {"LA040", "LA045"} <= codes and result.code == 1


def test_cli_unusable_base_path_says_to_name_the_base(cli, adapters, tmp_path):
    moved = tmp_path / "moved"
    shutil.copytree(adapters["correct"], moved)
    config = json.loads((moved / "adapter_config.json").read_text())
    (moved / "adapter_config.json").write_text(json.dumps({**config, "base_model_name_or_path": "/no/such/base"}))
    result = cli("adapter", moved)
    assert result.code == 2 and "lora-audit BASE --adapter" in result.err


@pytest.mark.parametrize("fmt", ["terminal", "markdown"])
def test_renderers_show_the_adapter(cli, adapters, fmt):
    result = cli(QWEN, "--adapter", adapters["resized"], "--format", fmt)
    assert result.code == 1
    assert "Adapter" in result.out and "adapter_model.safetensors" in result.out
    assert "LA043" in result.out


# --------------------------------------------------------------------------- the hub
def test_hub_adapter_reads_only_the_config_and_header_ranges(fake_hub, adapters, validate):
    header, data = _header(adapters["correct"] / "adapter_model.safetensors")
    blob = json.dumps(header).encode()
    padding = b"\0" * 400_000  # a data section far beyond the first range the header reader asks for
    weights = struct.pack("<Q", len(blob)) + blob + data + padding
    config = (adapters["correct"] / "adapter_config.json").read_bytes()
    fake_hub.add("someone/tiny-lora", files={"adapter_config.json": config, "adapter_model.safetensors": weights})
    report = audit(str(QWEN), adapter="someone/tiny-lora")
    validate(report.to_dict())
    assert report.adapter.source == "hub" and report.adapter.comparison.matched == 9 and _codes(report) == []
    assert report.adapter.table.file_bytes is None  # only the header was fetched
    assert set(fake_hub.requested_files) == {"adapter_config.json", "adapter_model.safetensors"}
    weight_gets = [r for f, r in fake_hub.gets if f == "adapter_model.safetensors"]
    assert weight_gets == ["bytes=0-100000"]  # one range: the header, never the whole file
    assert ("adapter_config.json", None) in fake_hub.gets

    # a header longer than the first range (a 405B adapter's is ~300 kB): a second range, up to its last byte
    long_header = {**header, "__metadata__": {"format": "pt", "note": "x" * 150_000}}
    blob = json.dumps(long_header).encode()
    weights = struct.pack("<Q", len(blob)) + blob + data + padding
    fake_hub.add("someone/long-header", files={"adapter_config.json": config, "adapter_model.safetensors": weights})
    fake_hub.gets.clear()
    report = audit(str(QWEN), adapter="someone/long-header")
    assert report.adapter.comparison.matched == 9
    weight_gets = [r for f, r in fake_hub.gets if f == "adapter_model.safetensors"]
    assert weight_gets == ["bytes=0-100000", f"bytes=8-{len(blob) + 7}"]


def test_hub_adapter_with_only_a_pickle(fake_hub, adapters):
    config = (adapters["correct"] / "adapter_config.json").read_bytes()
    fake_hub.add("someone/old-lora", files={"adapter_config.json": config, "adapter_model.bin": b"\x80\x04K\x01."})
    report = audit(str(QWEN), adapter="someone/old-lora")
    assert _one(report, "LA047")
    assert [f for f, r in fake_hub.gets if f == "adapter_model.bin"] == []  # asked about, never downloaded


def test_hub_adapter_errors(fake_hub):
    fake_hub.add("someone/private", files={}, private=True)
    with pytest.raises(AuditError) as info:
        audit(str(QWEN), adapter="someone/private")
    assert info.value.code == "adapter-not-found"
    fake_hub.add("someone/empty", files={"adapter_config.json": b'{"peft_type": "LORA", "r": 4}'})
    with pytest.raises(AuditError) as info:
        audit(str(QWEN), adapter="someone/empty")
    assert info.value.code == "adapter-weights-not-found"


def test_offline_hub_adapter_not_cached():
    with pytest.raises(AuditError) as info:
        audit(str(QWEN), adapter="someone/tiny-lora")
    assert info.value.code == "offline-not-cached"


# --------------------------------------------------------------------------- diff
def test_diff_two_adapters(capsys, adapters):
    from lora_audit.cli import main

    with pytest.raises(SystemExit) as info:
        main(["diff", str(adapters["correct"]), str(adapters["wrong-rank"]), "--base", str(QWEN), "--format", "json"])
    assert info.value.code == 1  # they differ: diff(1)'s exit code
    data = json.loads(capsys.readouterr().out)
    assert data["fields"]["modules_to_save"] == {"a": ["lm_head"], "b": None}
    assert "r" not in data["fields"]  # wrong-rank's config was edited back to r=4: only the shapes tell
    assert data["shapes"]["model.layers.(0-1).self_attn.q_proj.lora_A.weight"] == {"a": [4, 64], "b": [8, 64]}
    assert data["only_a"] == ["lm_head.weight"] and data["only_b"] == []
    assert data["a"]["params"] == 18176 and data["a"]["trainable"] == 18176
    assert data["b"]["trainable"] == 1792  # what PEFT creates for the (edited) config, not what the file holds


def test_diff_two_configs_in_markdown(cli, adapters):
    from tests.conftest import LORA

    first = adapters["correct"] / "adapter_config.json"
    result = cli("diff", first, LORA / "qwen-attention.yaml", "--format", "markdown")
    assert result.code == 1
    assert cli("diff", first, first).code == 0  # the same config: exit 0
    assert "| r " in result.out and "| lora_alpha " in result.out
    assert "inference_mode" not in result.out  # bookkeeping, not what the LoRA adapts
    assert "target_modules: k_proj, o_proj, q_proj, v_proj" in result.out


# --------------------------------------------------------------------------- against PEFT's own loading
def _load_with_peft(adapter_dir: Path, base: Path):
    """What PEFT itself does with the file: PeftModel.from_pretrained on the materialised tiny base."""
    import torch
    from peft import PeftModel
    from transformers import AutoConfig, AutoModelForCausalLM

    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(base))
    return PeftModel.from_pretrained(model, adapter_dir)


def test_unexpected_and_missing_keys_are_those_peft_drops(adapters, recwarn):
    """The renamed adapter loads "fine" in PEFT; its load result names the keys the audit reported."""
    from peft.utils import set_peft_model_state_dict
    from safetensors.torch import load_file

    peft_model = _load_with_peft(adapters["correct"], QWEN)
    state = load_file(adapters["renamed"] / "adapter_model.safetensors")  # our own test file
    result = set_peft_model_state_dict(peft_model, state)
    report = audit(str(QWEN), adapter=adapters["renamed"])
    assert len(result.unexpected_keys) == report.adapter.comparison.unexpected_count == 4
    assert all(".query." in k for k in result.unexpected_keys)
    # PEFT's missing keys include every base weight; the adapter's own are the LoRA ones
    assert len([k for k in result.missing_keys if ".lora_" in k]) == report.adapter.comparison.missing_count == 4


@pytest.mark.parametrize("case", ["wrong-rank", "resized", "bigger"])
def test_shape_findings_are_adapters_peft_cannot_load(adapters, case):
    with pytest.raises(RuntimeError, match="size mismatch"):
        _load_with_peft(adapters[case], QWEN)
    assert audit(str(QWEN), adapter=adapters[case]).adapter.comparison.mismatched_count > 0


def test_correct_adapter_loads_in_peft(adapters):
    _load_with_peft(adapters["correct"], QWEN)
