"""The command line: formats, exit codes, one-line errors, settings."""

from __future__ import annotations

import json
import os
import stat

from tests.conftest import LORA, TINY

QWEN = "Qwen/Qwen2.5-0.5B"


def test_clean_config_exits_0(cli):
    result = cli(QWEN, "--targets", "q_proj,v_proj")
    assert result.code == 0, result.err
    assert "Target matches" in result.out and "0 errors" in result.out
    assert result.err == ""


def test_error_finding_exits_1_and_fail_on_moves_the_bar(cli):
    assert cli(QWEN, "--targets", "q_proj,c_attn").code == 1
    assert cli(QWEN, "--targets", "q_proj,c_attn", "--fail-on", "never").code == 0
    # gpt2 + c_attn: PEFT flips fan_in_fan_out, a warning
    assert cli("openai-community/gpt2", "--targets", "c_attn").code == 0
    assert cli("openai-community/gpt2", "--targets", "c_attn", "--fail-on", "warning").code == 1


def test_json_to_stdout_and_file_agree(cli, validate, tmp_path):
    path = tmp_path / "out" / "report.json"
    path.parent.mkdir()
    result = cli(QWEN, "--targets", "q_proj", "--format", "json", "--json", path)
    assert result.code == 0
    assert validate(result.out) == validate(path.read_text())
    assert [p.name for p in path.parent.iterdir()] == ["report.json"]  # no temp file left behind
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask  # an ordinary file, not mkstemp's 0600


def test_json_numbers_are_integers(cli):
    data = cli(QWEN, "--targets", "q_proj", "--format", "json").json()
    for key in ("base", "total", "trainable", "frozen"):
        assert type(data["params"][key]) is int
    assert all(type(row["lora_params"]) is int for row in data["adapted_modules"])


def test_usage_errors_are_one_line_with_exit_2(cli, validate):
    for args in (
        [QWEN, "-r", "abc"],
        [QWEN, "--bias", "foo"],
        [QWEN, "-r", "0"],
        [QWEN, "--dropout", "1.5"],
        [QWEN, "--layers", "5-2"],
        [QWEN, "--targets", "q_proj", "--target-regex", ".*"],
        ["./no/such/dir"],
        [QWEN, "--no-such-flag"],
        [QWEN, "--config", "missing.yaml"],
    ):
        result = cli(*args)
        assert result.code == 2, args
        lines = result.err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("lora-audit: error: "), (args, result.err)
        assert "Traceback" not in result.err
        json_result = cli(*args, "--format", "json")
        assert json_result.code == 2
        assert validate(json_result.out)["error"]["message"]


def test_config_file_and_flags(cli):
    data = cli(QWEN, "--config", LORA / "qwen-attention.yaml", "-r", "4", "--format", "json").json()
    assert data["lora_config"]["r"] == 4 and data["lora_config"]["lora_alpha"] == 32
    assert [t["pattern"] for t in data["targets"]] == ["q_proj", "k_proj", "v_proj", "o_proj"]


def test_ignore_keeps_the_finding_visible_and_suppressed(cli):
    result = cli(QWEN, "--targets", "q_proj,c_attn", "--ignore", "LA001", "--format", "json")
    assert result.code == 0
    data = result.json()
    finding = next(f for f in data["findings"] if f["code"] == "LA001")
    assert finding["suppressed"] and finding["suppression_reason"] == "ignored with --ignore"
    assert data["summary"]["errors"] == 0 and data["summary"]["suppressed"] == 1


def test_select_runs_only_the_named_rules(cli):
    data = cli(QWEN, "--targets", "q_proj,c_attn", "--select", "LA003", "--format", "json").json()
    assert data["findings"] == []


def test_pyproject_settings(cli, tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[tool.lora-audit]\nfail-on = "never"\nignore = { "LA001:c_attn" = "shared tutorial config" }\n'
    )
    result = cli(QWEN, "--targets", "q_proj,c_attn,c_proj", "--format", "json")
    assert result.code == 0
    reasons = {f["subject"]: f["suppression_reason"] for f in result.json()["findings"]}
    assert reasons == {"c_attn": "shared tutorial config", "c_proj": None}


def test_bad_pyproject_settings_are_usage_errors(cli, tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.lora-audit]\nignore = ["LA999"]\n')
    result = cli(QWEN, "--targets", "q_proj")
    assert result.code == 2 and "LA999" in result.err


def test_tree_and_coverage(cli):
    result = cli(QWEN, "--targets", "q_proj", "--tree", "--coverage")
    assert "(0-23): 24 x Qwen2DecoderLayer" in result.out
    assert "q_proj: Linear 896->896  -> lora.Linear (+14,336)" in result.out
    assert "model.layers.(0-23)" in result.out


def test_rules_command(cli):
    listing = cli("rules")
    assert listing.code == 0 and "LA001  target-unmatched" in listing.out
    one = cli("rules", "LA003")
    assert one.code == 0 and "Why it matters" in one.out
    assert cli("rules", "modules-to-save-unmatched").out == one.out
    missing = cli("rules", "LA999")
    assert missing.code == 2 and missing.err.startswith("lora-audit: error:")


def test_markdown_format(cli):
    result = cli(QWEN, "--targets", "q_proj", "--format", "markdown")
    assert result.out.startswith("## lora-audit: `Qwen/Qwen2.5-0.5B`")
    assert "| entry" in result.out


def test_error_document_written_to_json_path(cli, validate, tmp_path):
    path = tmp_path / "report.json"
    result = cli("someone/not-bundled", "--json", path)
    assert result.code == 2
    assert validate(json.loads(path.read_text()))["error"]["code"] == "offline-not-cached"


def test_method_and_set_flags(cli, validate):
    """--method picks another PEFT method; --alpha is its alpha, --set any field of its config."""
    tiny = str(TINY / "qwen2")
    data = validate(cli(tiny, "--method", "loha", "--targets", "q_proj", "-r", "4", "--alpha", "8",
                        "--set", "rank_dropout=0.1", "--format", "json").out)
    assert data["method"] == {"peft_type": "LOHA", "label": "LoHa", "prompt_learning": False, "formula": "2·r·(d+k)"}
    assert (data["lora_config"]["alpha"], data["lora_config"]["rank_dropout"]) == (8, 0.1)
    assert data["params"]["trainable"] == 2 * (2 * 4 * (64 + 64))  # 2 layers of q_proj (64 x 64)
    terminal = cli(tiny, "--method", "ia3", "--targets", "q_proj,down_proj",
                   "--set", "feedforward_modules=[down_proj]")
    assert terminal.code == 0, terminal.err
    assert "Per-layer cost: d (k in feed-forward) against d·k" in terminal.out and "after IA3 (PEFT)" in terminal.out
    prompt = cli(tiny, "--method", "prompt_tuning", "--set", "num_virtual_tokens=8", "--task-type", "causal_lm")
    assert prompt.code == 0 and "Target matches" not in prompt.out and "prompt learning" in prompt.out
    bad = cli(tiny, "--method", "lohaa")
    assert bad.code == 2 and "did you mean loha?" in bad.err
    assert cli(tiny, "--set", "r=8", "-r", "8").code == 2  # one field, two flags


def test_rules_say_which_methods_they_apply_to(cli):
    listing = cli("rules").out
    assert "LA001  target-unmatched" in listing and "targeted methods" in listing.splitlines()[0]
    assert "LoRA only" in next(line for line in listing.splitlines() if line.startswith("LA018"))
    assert "(info, LoRA only)" in cli("rules", "LA018").out


def test_models_lists_the_catalogue_without_importing_torch(tmp_path):
    import subprocess
    import sys

    from lora_audit.model import catalogue

    code = ("import sys; from lora_audit.cli.app import main\n"
            "try:\n    main(['models'])\nexcept SystemExit:\n    pass\n"
            "print('TORCH' if 'torch' in sys.modules else 'NO-TORCH')")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    lines = result.stdout.splitlines()
    assert lines[-1] == "NO-TORCH"
    assert lines[0].split() == ["id", "architecture", "parameters", "library", "source"]
    listed = {line.split()[0] for line in lines[1:-1]}
    assert listed == set(catalogue.model_ids())
    qwen = next(line for line in lines if line.startswith("Qwen/Qwen2.5-0.5B "))
    assert qwen.split()[1:4] == ["Qwen2ForCausalLM", "494,032,768", "transformers"]
