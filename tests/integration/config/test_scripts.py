"""Training scripts, notebooks and tutorials audit exactly like the LoraConfig their code builds.

Each fixture in ``fixtures/scripts/`` is written in the style of the public PEFT, TRL, unsloth and
diffusers examples. For each, the test builds the config the code builds, independently (a plain
``LoraConfig(...)`` handed to the API), and requires the same counts and findings; where the script
sets the model config (``num_labels``), PEFT's own count on that model is the reference.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from peft import LoraConfig

from lora_audit import audit
from lora_audit.errors import AuditError
from tests.conftest import FIXTURES, ROOT

SCRIPTS = FIXTURES / "scripts"
QWEN = "Qwen/Qwen2.5-0.5B"
GPT2_NAMES = ["c_proj", "c_attn", "q_proj", "v_proj", "o_proj", "k_proj"]


def _same(script, direct) -> None:
    assert script.params == direct.params
    # a LoraConfig object holds target_modules as a set: compare the entries, not their order
    assert sorted((t.pattern, t.matched) for t in script.targets) == sorted((t.pattern, t.matched)
                                                                           for t in direct.targets)
    assert [(m.pattern, m.matched) for m in script.modules_to_save] == \
        [(m.pattern, m.matched) for m in direct.modules_to_save]
    assert sorted((f.code, f.subject) for f in script.findings) == sorted((f.code, f.subject) for f in direct.findings)


# (fixture, MODEL or None, the config the script builds, extra API arguments for the direct audit)
CASES = [
    ("tutorial-gpt2-names.py", None, dict(r=8, lora_alpha=16, target_modules=GPT2_NAMES), {"model": QWEN}),
    ("tutorial.md", None, dict(r=8, lora_alpha=16, target_modules=GPT2_NAMES), {"model": QWEN}),
    ("peft-aliases.py", None,
     dict(task_type="CAUSAL_LM", r=16, target_modules=["q_proj", "k_proj", "v_proj", "gate_proj", "up_proj",
                                                        "down_proj"], lora_alpha=32, lora_dropout=0.05),
     {"model": QWEN, "model_class": "AutoModelForCausalLM"}),
    ("trl-sft.py", None,
     dict(r=32, lora_alpha=16, target_modules="all-linear", modules_to_save=["lm_head", "embed_token"],
          task_type="CAUSAL_LM"), {"model": QWEN}),
    ("add-adapter.py", None, dict(r=8, target_modules=["c_attn"], fan_in_fan_out=True, lora_alpha=32),
     {"model": "openai-community/gpt2", "model_class": "AutoModelForCausalLM"}),
    ("diffusers-unet.py", None,
     dict(r=4, lora_alpha=4, init_lora_weights="gaussian", target_modules=["to_k", "to_q", "to_v", "to_out.0"]),
     {"model": "stable-diffusion-v1-5/stable-diffusion-v1-5", "component": "unet"}),
    ("writes-a-file-on-import.py", QWEN, dict(r=8, target_modules=["q_proj", "v_proj"]), {"model": QWEN}),
]


@pytest.mark.parametrize("name, model, fields, direct", CASES, ids=[c[0] for c in CASES])
def test_a_script_audits_as_the_config_it_builds(name, model, fields, direct):
    direct = dict(direct)
    script = audit(model, config_file=SCRIPTS / name)
    _same(script, audit(direct.pop("model"), lora_config=LoraConfig(**fields), **direct))
    source = script.lora_config_source
    assert source.format == "python" and source.script["kind"] in ("python", "markdown")
    assert {a["name"] for a in source.script["arguments"]} >= set(fields) - {"init_lora_weights"} or \
        name == "trl-sft.py"


def test_the_gpt2_names_script_gives_the_json_configs_numbers_and_points_at_the_target_modules_line():
    script = audit(None, config_file=SCRIPTS / "tutorial-gpt2-names.py")
    from_json = audit(QWEN, config_file=FIXTURES / "lora" / "tutorial-gpt2-names.json")
    assert script.params.trainable == from_json.params.trainable == 1_081_344
    la001 = [f for f in script.findings if f.code == "LA001"]
    assert [f.subject for f in la001] == ["c_proj", "c_attn"]
    assert {f.location.line for f in la001} == {9}  # the target_modules= line
    assert [f.code for f in script.findings] == [f.code for f in from_json.findings]


def test_qlora_through_a_bitsandbytes_config_variable():
    script = audit(None, config_file=SCRIPTS / "qlora-bnb.py")
    direct = audit("meta-llama/Meta-Llama-3-8B", lora_config=LoraConfig(
        r=16, lora_alpha=32, lora_dropout=0.05, target_modules="all-linear", bias="none", task_type="CAUSAL_LM"),
        quantization_request={"method": "bitsandbytes", "bits": 4})
    _same(script, direct)
    assert (script.quantization.method, script.quantization.bits) == ("bitsandbytes", 4)
    assert "BitsAndBytesConfig(load_in_4bit=True) (line 7)" in script.quantization.source


def test_unsloth_notebook_with_model_given_counts_unsloths_own_figure():
    script = audit("meta-llama/Meta-Llama-3-8B", config_file=SCRIPTS / "unsloth-llama3.ipynb")
    direct = audit("meta-llama/Meta-Llama-3-8B", lora_config=LoraConfig(
        r=16, lora_alpha=16, lora_dropout=0, bias="none", use_rslora=False, task_type="CAUSAL_LM",
        target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]),
        quantization_request={"method": "bitsandbytes", "bits": 4})
    _same(script, direct)
    # unsloth's own notebook prints "Trainable parameters = 41,943,040" for this config
    assert script.params.trainable == 41_943_040
    source = script.lora_config_source
    assert source.model == "unsloth/llama-3-8b-bnb-4bit" and source.model_from == "argument"
    assert source.script["kind"] == "notebook" and source.script["cell"] == "cell 6, line 1"
    assert source.location_of("target_modules").cell == "cell 6, line 4"


def test_sequence_classification_without_task_type_uses_the_scripts_num_labels():
    import torch
    from peft import get_peft_model
    from transformers import AutoConfig, AutoModelForSequenceClassification

    script = audit(None, config_file=SCRIPTS / "seq-cls-no-task-type.py")
    config = AutoConfig.from_pretrained(FIXTURES / "models" / "FacebookAI--roberta-base", num_labels=3)
    with torch.device("meta"):
        model = AutoModelForSequenceClassification.from_config(config)
    trainable, total = get_peft_model(model, LoraConfig(r=8, lora_alpha=16, target_modules=["query", "value"],
                                                        lora_dropout=0.1)).get_nb_trainable_parameters()
    assert (script.params.trainable, script.params.total) == (trainable, total) == (294_912, 124_942_851)
    assert {"LA005", "LA020"} <= {f.code for f in script.findings}  # the new head stays frozen


def test_an_unresolved_rank_stops_with_the_flag_that_supplies_it_and_the_flag_gives_the_numbers():
    with pytest.raises(AuditError) as caught:
        audit(None, config_file=SCRIPTS / "args-rank.py")
    assert caught.value.code == "script-unresolved"
    assert caught.value.message.endswith("line 12: r=args.rank is known only when the script runs (an attribute "
                                         "of the result of parse_args(), known only when it runs)")
    script = audit(None, config_file=SCRIPTS / "args-rank.py", overrides={"r": 12})
    _same(script, audit(QWEN, lora_config=LoraConfig(r=12, lora_alpha=16, target_modules=["q_proj", "v_proj"])))
    assert script.params.trainable == 811_008


@pytest.mark.slow  # several seconds: the slow run has it
def test_each_config_of_a_sweep_is_its_own_audit(cli):
    result = cli(SCRIPTS / "three-ranks.py", "--format", "json")
    pairs = result.json()["check"]["pairs"]
    assert [p["config_at"] for p in pairs] == ["line 6", "line 7", "line 8"]
    expected = [audit(QWEN, lora_config=LoraConfig(**fields)).params.trainable for fields in (
        dict(r=4, target_modules=["q_proj", "v_proj"]),
        dict(r=16, target_modules=["q_proj", "k_proj", "v_proj", "o_proj"]),
        dict(r=64, target_modules="all-linear"))]
    assert [p["report"]["params"]["trainable"] for p in pairs] == expected
    assert result.code == max(p["exit_code"] for p in pairs)
    text = cli(SCRIPTS / "three-ranks.py")
    assert "three-ranks.py:7" in text.out and "3 audits" in text.out
    memory = cli(SCRIPTS / "three-ranks.py", "--memory", "--seq-len", "64", "--batch", "1", "--format", "json")
    peaks = [p["report"]["memory"]["peak_bytes"] for p in memory.json()["check"]["pairs"]]
    assert len(peaks) == 3 and all(peaks) and peaks[0] < peaks[2]  # every config gets its own estimate


def test_the_cli_takes_scripts_as_the_argument_or_as_config_and_model_wins(cli):
    alone = cli(SCRIPTS / "tutorial-gpt2-names.py", "--format", "json")
    given = cli(QWEN, "--config", SCRIPTS / "tutorial.md", "--format", "json")
    assert alone.code == given.code == 1
    assert alone.json()["params"] == given.json()["params"]
    assert given.json()["lora_config_source"]["model_from"] == "argument"
    error = cli(SCRIPTS / "args-rank.py")
    assert error.code == 2 and error.out == ""
    assert error.err.count("\n") == 1 and "pass it with -r/--rank" in error.err
    flagged = cli(SCRIPTS / "args-rank.py", "-r", "12", "--format", "json")
    assert flagged.code == 0
    assert flagged.json()["lora_config_source"]["script"]["arguments"][0] == {
        "name": "r", "line": 12, "cell": None, "resolved": False, "from": "flag", "expression": "args.rank",
        "why": "an attribute of the result of parse_args(), known only when it runs"}


def test_the_terminal_report_shows_the_translation(cli):
    out = cli(SCRIPTS / "tutorial-gpt2-names.py").out
    assert "python read LoraConfig(...) at line 6: r (line 7), lora_alpha (line 8), target_modules (line 9)" in \
        " ".join(out.split())


def test_check_picks_up_scripts_and_skips_scripts_without_a_config(cli, tmp_path):
    plain = tmp_path / "utils.py"
    plain.write_text("def helper():\n    return 1\n")
    result = cli("check", SCRIPTS / "tutorial-gpt2-names.py", plain, "--format", "json")
    pairs = result.json()["check"]["pairs"]
    assert len(pairs) == 1 and pairs[0]["report"]["params"]["trainable"] == 1_081_344
    assert "skipped" in result.err and "utils.py" in result.err


@pytest.mark.slow  # several seconds: the slow run has it
def test_reading_a_script_never_runs_it(tmp_path):
    """The fixture writes marker files when run or imported; auditing it leaves none, in a fresh process."""
    code = subprocess.run(
        [sys.executable, "-m", "lora_audit", QWEN, "--config", str(SCRIPTS / "writes-a-file-on-import.py"),
         "--offline", "--format", "json"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
        env={**__import__("os").environ, "PYTHONPATH": str(ROOT)},
    ).returncode
    assert code == 0
    assert list(tmp_path.iterdir()) == []


def test_a_script_that_loads_a_saved_adapter_audits_that_adapter(tmp_path):
    adapter = tmp_path / "my-adapter"
    adapter.mkdir()
    (adapter / "adapter_config.json").write_text(
        '{"peft_type": "LORA", "r": 8, "lora_alpha": 16, "target_modules": ["q_proj", "v_proj"], '
        '"base_model_name_or_path": "Qwen/Qwen2.5-0.5B", "inference_mode": true}')
    (tmp_path / "resume.py").write_text(
        "from peft import PeftModel\nfrom transformers import AutoModelForCausalLM\n"
        "base = AutoModelForCausalLM.from_pretrained('Qwen/Qwen2.5-0.5B')\n"
        "model = PeftModel.from_pretrained(base, 'my-adapter', is_trainable=True)\n")
    (tmp_path / "auto.py").write_text(
        "from peft import AutoPeftModelForCausalLM\nmodel = AutoPeftModelForCausalLM.from_pretrained('my-adapter')\n")
    direct = audit(QWEN, config_file=adapter)
    for name in ("resume.py", "auto.py"):
        script = audit(None, config_file=tmp_path / name)
        _same(script, direct)
        assert script.params.trainable == 540_672
    (tmp_path / "hub.py").write_text("from peft import PeftModel\nPeftModel.from_pretrained(None, 'org/adapter')\n")
    with pytest.raises(AuditError) as caught:
        audit(None, config_file=tmp_path / "hub.py")
    assert caught.value.code == "script-not-understood" and "lora-audit adapter org/adapter" in caught.value.hint


def test_trls_model_config_gives_what_trls_own_get_peft_config_builds(tmp_path):
    trl = pytest.importorskip("trl")
    kwargs = dict(model_name_or_path=QWEN, use_peft=True, lora_r=32, lora_alpha=16,
                  lora_target_modules=["q_proj", "v_proj"], lora_modules_to_save=["lm_head"])
    (tmp_path / "sft.py").write_text(
        "from trl import ModelConfig, SFTTrainer, get_peft_config\n"
        f"model_args = ModelConfig(**{kwargs!r})\n"
        "SFTTrainer(model=model_args.model_name_or_path, peft_config=get_peft_config(model_args))\n")
    script = audit(None, config_file=tmp_path / "sft.py")
    _same(script, audit(QWEN, lora_config=trl.get_peft_config(trl.ModelConfig(**kwargs))))
    (tmp_path / "parsed.py").write_text(
        "from trl import ModelConfig, TrlParser, get_peft_config\n"
        "model_args, = TrlParser((ModelConfig,)).parse_args_and_config()\n"
        "peft_config = get_peft_config(model_args)\n")
    with pytest.raises(AuditError) as caught:
        audit(QWEN, config_file=tmp_path / "parsed.py")
    assert caught.value.code == "script-unresolved" and "lora-audit config.yaml" in caught.value.hint


@pytest.mark.parametrize("name, printed", [("peft-vera-sequence-classification.ipynb", (647_714, 125_294_884)),
                                           ("peft-fourierft-sequence-classification.ipynb", (616_130, 125_263_300))])
def test_peft_example_notebooks_of_other_methods_give_the_figures_they_print(name, printed):
    """PEFT's VeRA and FourierFT notebooks print print_trainable_parameters() after get_peft_model (their outputs)."""
    report = audit("roberta-base", config_file=SCRIPTS / name, config_select=0, offline=True)
    assert (report.params.trainable, report.params.total) == printed
    assert report.method.peft_type in ("VERA", "FOURIERFT")


def test_a_randlora_config_in_a_notebook_is_read_as_randloraconfig():
    from peft import RandLoraConfig

    script = audit("meta-llama/Meta-Llama-3-8B", config_file=SCRIPTS / "peft-qrandlora-finetuning.ipynb", offline=True)
    fields = {k: v for k, v in script.lora_config_source.fields.items()}
    direct = audit("meta-llama/Meta-Llama-3-8B", lora_config=RandLoraConfig(**fields), offline=True,
                   quantization_request={"method": "bitsandbytes", "bits": 4})
    _same(script, direct)
    assert script.method.label == "RandLora" and fields["randlora_alpha"] == 640
    assert script.quantization.bits == 4 and script.quantization.peft_layer is None  # LoRA's table does not apply


def test_a_scripts_failing_config_names_its_place_once(cli):
    result = cli(SCRIPTS / "peft-vera-sequence-classification.ipynb", "--offline")
    last = result.err.strip().splitlines()[-1]
    assert result.code == 2 and last.count("cell 24, line 2") == 1
