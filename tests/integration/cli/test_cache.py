"""The result cache: a hit skips torch, any changed input or version misses, a corrupt entry is never trusted."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import lora_audit
from lora_audit import AuditRequest
from lora_audit.cli import cache
from lora_audit.model.locate import resolve_model_source
from tests.conftest import LORA, MODELS, ROOT
from tests.integration.cli.test_golden import terminal_text

QWEN = "Qwen/Qwen2.5-0.5B"


def entries() -> list[Path]:
    return sorted(Path(os.environ[cache.ENV_DIR]).glob("*.json"))


def test_a_repeated_audit_answers_from_the_cache(cli):
    args = [QWEN, "--config", LORA / "tutorial-gpt2-names.json", "--format", "json"]
    first = cli(*args)
    assert first.code == 1 and first.json()["from_cache"] is False and len(entries()) == 1
    second = cli(*args)
    assert second.code == 1 and second.json()["from_cache"] is True
    a, b = first.json(), second.json()
    a.pop("from_cache"), b.pop("from_cache")
    assert a == b
    text = cli(QWEN, "--config", LORA / "tutorial-gpt2-names.json")
    assert "cache   answered from the result cache" in text.out
    assert not cli(QWEN, "--config", LORA / "tutorial-gpt2-names.json", "--no-cache", "--format", "json").json()[
        "from_cache"]


def test_the_rules_run_again_on_a_hit(cli):
    args = [QWEN, "--config", LORA / "tutorial-gpt2-names.json", "--format", "json"]
    assert cli(*args).code == 1
    hit = cli(*args, "--ignore", "LA001")
    assert hit.code == 0 and hit.json()["from_cache"] and hit.json()["summary"]["suppressed"] == 2
    assert cli(*args, "--select", "LA003").json()["findings"] == []


def test_a_hit_imports_neither_torch_nor_transformers_nor_peft(cli, tmp_path):
    config = LORA / "tutorial-gpt2-names.json"
    assert cli(QWEN, "--config", config, "--offline").code == 1  # fills the cache (in this process)
    code = (
        "import sys\n"
        "from lora_audit.cli import main\n"
        f"try:\n    main(['{QWEN}', '--config', {str(config)!r}, '--offline', '--format', 'json'])\n"
        "except SystemExit as exc:\n    code = exc.code\n"
        "heavy = [m for m in ('torch', 'transformers', 'peft') if m in sys.modules]\n"
        "print('HEAVY', heavy, 'EXIT', code, file=sys.stderr)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path,
                          timeout=120)
    assert "HEAVY [] EXIT 1" in done.stderr, done.stderr
    assert json.loads(done.stdout)["from_cache"] is True


# --------------------------------------------------------------------------- the key
@pytest.fixture
def model_dir(tmp_path):
    folder = tmp_path / "model"
    shutil.copytree(MODELS / "Qwen--Qwen2.5-0.5B", folder)
    lora = tmp_path / "lora.yaml"
    shutil.copy(LORA / "qwen-attention.yaml", lora)
    return folder, lora


def key_for(folder, lora, **flags):
    return cache.cache_key(resolve_model_source(str(folder)), AuditRequest(str(folder), config_file=lora, **flags))


def test_every_input_changes_the_key(model_dir, monkeypatch):
    folder, lora = model_dir
    base = key_for(folder, lora)
    assert base == key_for(folder, lora) and len(base) == 64
    keys = {base}

    def changed(key):
        assert key not in keys
        keys.add(key)

    changed(key_for(folder, lora, overrides={"r": 4}))
    changed(key_for(folder, lora, task_type="SEQ_CLS"))
    changed(key_for(folder, lora, model_class="Qwen2ForSequenceClassification"))
    changed(key_for(folder, lora, revision="v2"))
    changed(key_for(folder, None))
    changed(key_for(folder, lora, trust_remote_code=True))
    (folder / "modeling_custom.py").write_text("# remote code\n")
    changed(key_for(folder, lora, trust_remote_code=True))
    (folder / "modeling_custom.py").write_text("# remote code, edited\n")
    changed(key_for(folder, lora, trust_remote_code=True))
    assert key_for(folder, lora) == base  # remote code only counts when it may run
    lora.write_text(lora.read_text().replace("r: 16", "r: 32"))
    changed(key_for(folder, lora))
    config = json.loads((folder / "config.json").read_text())
    config["num_hidden_layers"] = 2
    (folder / "config.json").write_text(json.dumps(config))
    changed(key_for(folder, lora))
    now = key_for(folder, lora)
    for name in ("peft", "transformers", "torch", "huggingface_hub", "lora-audit-cli"):
        real = cache.metadata.version

        def fake(dist, name=name, real=real):
            return "999.0" if dist == name else real(dist)

        monkeypatch.setattr(cache.metadata, "version", fake)
        changed(key_for(folder, lora))
        monkeypatch.setattr(cache.metadata, "version", real)
    monkeypatch.setattr(cache, "__version__", "9.9.9")
    changed(key_for(folder, lora))
    monkeypatch.undo()
    monkeypatch.setattr(cache, "_code_digest", lambda: "edited checkout")
    changed(key_for(folder, lora))
    monkeypatch.undo()
    assert key_for(folder, lora) == now


def test_a_changed_input_misses_end_to_end(cli, model_dir):
    folder, lora = model_dir
    args = [folder, "--config", lora, "--format", "json"]
    assert cli(*args).json()["from_cache"] is False
    assert cli(*args).json()["from_cache"] is True
    lora.write_text(lora.read_text().replace("r: 16", "r: 8"))
    fresh = cli(*args).json()
    assert fresh["from_cache"] is False and fresh["lora_config"]["r"] == 8
    assert cli(*args, "-r", "4").json()["from_cache"] is False


# --------------------------------------------------------------------------- corrupt entries
@pytest.mark.parametrize("damage", ["garbage", "tampered", "wrong-key", "missing-field", "truncated"])
def test_a_corrupt_entry_is_ignored_and_replaced(cli, damage):
    args = [QWEN, "--targets", "q_proj,v_proj", "--format", "json"]
    truth = cli(*args).json()
    (path,) = entries()
    entry = json.loads(path.read_text())
    if damage == "garbage":
        path.write_bytes(b"\x00\xffnot json")
    elif damage == "truncated":
        path.write_text(path.read_text()[: len(path.read_text()) // 2])
    elif damage == "tampered":  # a number changed without the checksum: never trusted
        entry["payload"] = entry["payload"].replace('"trainable": 540672', '"trainable": 1')
        assert '"trainable": 1' in entry["payload"]
        path.write_text(json.dumps(entry))
    elif damage == "wrong-key":
        entry["key"] = "0" * 64
        path.write_text(json.dumps(entry))
    else:  # checksum right, content not a report
        payload = json.loads(entry["payload"])
        del payload["params"]
        entry["payload"] = json.dumps(payload)
        entry["sha256"] = __import__("hashlib").sha256(entry["payload"].encode()).hexdigest()
        path.write_text(json.dumps(entry))
    again = cli(*args).json()
    assert again["from_cache"] is False and again["params"] == truth["params"]
    assert cli(*args).json()["from_cache"] is True  # the entry was rewritten


def test_no_cache_and_the_environment_switch_write_nothing(cli, monkeypatch):
    assert cli(QWEN, "--targets", "q_proj", "--no-cache").code == 0
    assert entries() == []
    monkeypatch.setenv(cache.ENV_OFF, "1")
    assert cli(QWEN, "--targets", "q_proj").code == 0
    assert entries() == []


def test_the_cache_dir_defaults_to_the_user_cache(monkeypatch):
    import platformdirs

    monkeypatch.delenv(cache.ENV_DIR)
    assert cache.cache_dir() == Path(platformdirs.user_cache_dir("lora-audit", appauthor=False))


def test_a_rebuilt_report_renders_identically():
    report = lora_audit.audit("naver-hyperclovax/HyperCLOVAX-SEED-Text-Instruct-0.5B",
                              overrides={"r": 16, "target_modules": "all-linear", "modules_to_save": ["lm_head"]})
    rebuilt = cache.report_from_dict(report.to_dict())
    assert rebuilt.to_dict() == report.to_dict()
    assert terminal_text(rebuilt, tree=True, coverage=True) == terminal_text(report, tree=True, coverage=True)


def test_the_cache_keeps_at_most_max_entries(cli, monkeypatch):
    monkeypatch.setattr(cache, "MAX_ENTRIES", 2)
    for targets in ("q_proj", "k_proj", "v_proj"):
        assert cli(QWEN, "--targets", targets).code == 0
    assert len(entries()) == 2
    assert cli(QWEN, "--targets", "v_proj", "--format", "json").json()["from_cache"] is True


# --------------------------------------------------------------------------- a shared cache cannot be forged
def _entry_for(cli, *args) -> tuple[Path, dict]:
    before = set(entries())
    cli(*args)
    (new,) = set(entries()) - before
    return new, json.loads(new.read_text())


def test_a_forged_entry_is_a_miss_and_the_verdict_stands(cli):
    """An attacker who can write the cache swaps a clean audit's facts into the entry of a failing one."""
    import hashlib

    failing = [QWEN, "--config", LORA / "tutorial-gpt2-names.json", "--format", "json"]
    clean = [QWEN, "--targets", "q_proj,v_proj", "--format", "json"]
    bad_path, bad = _entry_for(cli, *failing)
    _, good = _entry_for(cli, *clean)
    payload = good["payload"]
    for forged in (
        # the old layout's checksum, consistent with the forged payload
        {"format": 1, "key": bad["key"], "sha256": hashlib.sha256(payload.encode()).hexdigest(), "payload": payload},
        # today's layout, with the MAC of another entry (made under the real secret, for another key)
        {**bad, "payload": payload, "mac": good["mac"]},
        {**bad, "payload": payload, "mac": "0" * 64},
        {**bad, "payload": payload, "mac": None},
    ):
        bad_path.write_text(json.dumps(forged))
        result = cli(*failing)
        assert result.code == 1 and result.json()["from_cache"] is False, forged.get("mac")


def test_the_secret_is_private_and_an_unsafe_one_turns_the_cache_off(cli):
    args = [QWEN, "--targets", "q_proj", "--format", "json"]
    assert cli(*args).code == 0
    key_file = Path(os.environ[cache.ENV_DIR]) / cache.SECRET_NAME
    assert key_file.stat().st_mode & 0o777 == 0o600 and key_file.stat().st_size == cache.SECRET_BYTES
    assert cli(*args).json()["from_cache"] is True
    key_file.chmod(0o644)  # readable by others: anyone could forge entries with it
    assert cli(*args).json()["from_cache"] is False
    key_file.unlink()
    key_file.symlink_to(Path(os.environ[cache.ENV_DIR]) / "elsewhere")
    assert cli(*args).json()["from_cache"] is False


@pytest.mark.parametrize("special", ["fifo", "dev-zero", "symlink-out", "symlink-loop", "huge"])
def test_a_special_file_as_an_entry_is_a_miss_at_once(cli, tmp_path, special):
    import time

    args = [QWEN, "--targets", "q_proj", "--format", "json"]
    path, _ = _entry_for(cli, *args)
    path.unlink()
    if special == "fifo":
        os.mkfifo(path)
    elif special == "dev-zero":
        path.symlink_to("/dev/zero")
    elif special == "symlink-out":
        outside = tmp_path / "outside.json"
        shutil.copy(ROOT / "README.md", outside)
        path.symlink_to(outside)
    elif special == "symlink-loop":
        path.symlink_to(path)
    else:
        with open(path, "wb") as handle:
            handle.truncate(cache.MAX_ENTRY_BYTES + 1)
    start = time.monotonic()
    result = cli(*args)
    assert result.code == 0 and result.json()["from_cache"] is False
    assert time.monotonic() - start < 30


def test_the_key_covers_the_files_that_decide_which_config_is_read(model_dir):
    folder, _ = model_dir
    source = resolve_model_source(str(folder))
    request = AuditRequest(model=str(folder), overrides={"target_modules": ["q_proj"]})
    before = cache.cache_key(source, request)
    (folder / "modules.json").write_text("[]")
    assert cache.cache_key(source, request) != before
