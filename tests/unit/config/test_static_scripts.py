"""Reading a training script statically: values the way a reader resolves them, and nothing guessed.

Each test writes a few lines of Python (or a notebook, or Markdown) and checks what the ``python``
front-end reads from it, without building any model.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lora_audit.config.frontends import python as script_frontend
from lora_audit.config.loading import load_config_file
from lora_audit.config.lora_config import resolve_lora_config
from lora_audit.config.static.sources import blank_magics, markdown_blocks
from lora_audit.errors import AuditError

HEAD = "from peft import LoraConfig, get_peft_model\nfrom transformers import AutoModelForCausalLM\n"


def _configs(tmp_path: Path, code: str, name: str = "train.py"):
    path = tmp_path / name
    path.write_text(code, encoding="utf-8")
    return script_frontend.read_configs(load_config_file(path))


def _one(tmp_path: Path, code: str, name: str = "train.py"):
    configs = _configs(tmp_path, code, name)
    assert len(configs) == 1, [c.label for c in configs]
    return configs[0]


def test_names_bound_earlier_resolve_and_the_last_assignment_before_the_call_wins(tmp_path):
    config = _one(tmp_path, HEAD + (
        "r = 4\n"
        "targets = ['q_proj'] + ['v_proj']\n"
        "targets.append('o_proj')\n"
        "r = 16\n"
        "cfg = LoraConfig(r=r, target_modules=targets, lora_alpha=2 * 16 if False else 32)\n"
        "r = 99\n"
    ))
    assert config.fields == {"r": 16, "target_modules": ["q_proj", "v_proj", "o_proj"], "lora_alpha": 32}
    assert config.entry_lines["target_modules"] == {"q_proj": 4, "v_proj": 4, "o_proj": 5}
    assert {a.name: a.place.line for a in config.arguments} == {"r": 7, "target_modules": 7, "lora_alpha": 7}


def test_aliases_enums_fstrings_dict_and_double_star(tmp_path):
    config = _one(tmp_path, (
        "import peft as p\n"
        "from peft import LoraConfig as LC, TaskType\n"
        "from transformers import AutoModelForCausalLM as M\n"
        "org = 'Qwen'\n"
        "model = M.from_pretrained(f'{org}/Qwen2.5-0.5B')\n"
        "extra = dict(lora_dropout=0.1, bias='none')\n"
        "cfg = LC(task_type=TaskType.CAUSAL_LM, r=8, **extra, target_modules={'q_proj', 'v_proj'})\n"
        "model = p.get_peft_model(model, cfg)\n"
    ))
    assert config.fields == {"task_type": "CAUSAL_LM", "r": 8, "lora_dropout": 0.1, "bias": "none",
                             "target_modules": ["q_proj", "v_proj"]}
    assert config.model == "Qwen/Qwen2.5-0.5B"
    assert config.model_class == "AutoModelForCausalLM"
    assert "the model passed to get_peft_model at line 8" in config.steps[0]


def test_a_value_known_only_at_run_time_is_unresolved_with_its_expression_and_line(tmp_path):
    config = _one(tmp_path, HEAD + (
        "import argparse\n"
        "args = argparse.ArgumentParser().parse_args()\n"
        "def find_all_linear_names(model):\n"
        "    return ['q_proj']\n"
        "model = AutoModelForCausalLM.from_pretrained('Qwen/Qwen2.5-0.5B')\n"
        "cfg = LoraConfig(r=args.rank, target_modules=find_all_linear_names(model), lora_alpha=16)\n"
    ))
    assert config.fields == {"lora_alpha": 16}
    unresolved = {name: (a.expression, a.place.line) for name, a in config.unresolved.items()}
    assert unresolved == {"r": ("args.rank", 8), "target_modules": ("find_all_linear_names(model)", 8)}


def test_an_unresolved_argument_stops_the_audit_naming_its_flag_and_a_flag_supplies_it(tmp_path):
    path = tmp_path / "train.py"
    path.write_text(HEAD + "import os\ncfg = LoraConfig(r=int(os.environ['RANK']), target_modules=['q_proj'])\n")
    with pytest.raises(AuditError) as caught:
        resolve_lora_config(file=path)
    assert caught.value.code == "script-unresolved"
    assert "line 4: r=int(os.environ['RANK'])" in caught.value.message and caught.value.hint == "pass it with -r/--rank"
    spec = resolve_lora_config(file=path, overrides={"r": 12})
    assert spec.config.r == 12
    assert spec.translation.to_report(spec.fields, spec.flags, "argument").script["arguments"][0]["from"] == "flag"


def test_names_assigned_under_a_condition_or_in_a_loop_are_not_guessed(tmp_path):
    config = _one(tmp_path, HEAD + (
        "import sys\n"
        "rank = 8\n"
        "if len(sys.argv) > 1:\n"
        "    rank = 64\n"
        "alpha = 16\n"
        "for step in range(3):\n"
        "    alpha = alpha * 2\n"
        "cfg = LoraConfig(r=rank, lora_alpha=alpha, target_modules=['q_proj'])\n"
    ))
    assert set(config.unresolved) == {"r", "lora_alpha"}
    assert "assigned under if len(sys.argv) > 1" in config.unresolved["r"].why
    assert "rebound in the loop at line 8" in config.unresolved["lora_alpha"].why


def test_a_decidable_condition_is_followed_and_main_functions_are_read(tmp_path):
    config = _one(tmp_path, HEAD + (
        "USE_DORA = False\n"
        "def main():\n"
        "    model = AutoModelForCausalLM.from_pretrained('Qwen/Qwen2.5-0.5B')\n"
        "    if USE_DORA:\n"
        "        cfg = LoraConfig(r=8, use_dora=True, target_modules=['q_proj'])\n"
        "    else:\n"
        "        cfg = LoraConfig(r=8, target_modules=['q_proj'])\n"
        "    return get_peft_model(model, cfg)\n"
        "if __name__ == '__main__':\n"
        "    main()\n"
    ))
    assert config.fields == {"r": 8, "target_modules": ["q_proj"]} and config.place.line == 9


def test_a_config_built_in_a_loop_a_local_subclass_and_positional_arguments_are_refused(tmp_path):
    configs = _configs(tmp_path, HEAD + (
        "for r in (8, 16):\n"
        "    LoraConfig(r=r, target_modules=['q_proj'])\n"
        "class MyConfig(LoraConfig):\n"
        "    pass\n"
        "MyConfig(r=8)\n"
        "LoraConfig('CAUSAL_LM', 8)\n"
    ))
    assert [c.refused.code for c in configs] == ["script-not-understood"] * 3
    assert "inside the loop at line 3" in configs[0].refused.message
    assert "subclass of LoraConfig defined in the script (line 5)" in configs[1].refused.message
    assert "positional arguments" in configs[2].refused.message


def test_other_peft_methods_are_read_as_their_own_config_class(tmp_path):
    configs = _configs(tmp_path, "from peft import LoHaConfig\ncfg = LoHaConfig(r=8, target_modules=['q_proj'])\n")
    assert configs[0].refused is None and configs[0].method == "LOHA"
    assert configs[0].fields == {"r": 8, "target_modules": ["q_proj"]}
    spec = resolve_lora_config(file=tmp_path / "train.py")
    assert (spec.method, type(spec.config).__name__) == ("LOHA", "LoHaConfig")


def test_a_peft_config_class_peft_does_not_have_or_xlora_is_refused_by_name(tmp_path):
    unknown = _configs(tmp_path, "from peft import LoHaaConfig\ncfg = LoHaaConfig(r=8)\n")
    assert unknown[0].refused.code == "not-a-lora-config" and "not a config class" in unknown[0].refused.message
    xlora = _configs(tmp_path, "from peft import XLoraConfig\ncfg = XLoraConfig(adapters={})\n")
    assert xlora[0].refused.code == "method-not-auditable"


def test_an_argument_lora_config_does_not_have_is_the_type_error_the_script_would_raise(tmp_path):
    path = tmp_path / "train.py"
    path.write_text(HEAD + "cfg = LoraConfig(rank=8, target_modules=['q_proj'])\n")
    with pytest.raises(AuditError) as caught:
        resolve_lora_config(file=path)
    assert caught.value.code == "invalid-lora-config" and "no argument 'rank'" in caught.value.message
    assert caught.value.hint == "did you mean r?"


def test_quantization_through_a_variable_and_the_training_arguments_are_recorded(tmp_path):
    config = _one(tmp_path, HEAD + (
        "from transformers import BitsAndBytesConfig, TrainingArguments\n"
        "from trl import SFTTrainer\n"
        "bnb = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type='nf4')\n"
        "model = AutoModelForCausalLM.from_pretrained('meta-llama/Meta-Llama-3-8B', quantization_config=bnb)\n"
        "cfg = LoraConfig(r=8, target_modules='all-linear')\n"
        "args = TrainingArguments(output_dir='out', per_device_train_batch_size=4, gradient_checkpointing=True,\n"
        "                         bf16=True, optim='paged_adamw_8bit')\n"
        "SFTTrainer(model=model, args=args, peft_config=cfg)\n"
    ))
    assert (config.quantization["method"], config.quantization["bits"]) == ("bitsandbytes", 4)
    assert "BitsAndBytesConfig(load_in_4bit=True) (line 5)" in config.quantization["source"]
    training = config.training
    assert (training.batch_size.value, training.gradient_checkpointing.value, training.precision.value,
            training.optimizer.value) == (4, True, "bf16", "paged_adamw_8bit")
    assert training.batch_size.line == 8 and training.optimizer.line == 9


def test_unsloth_defaults_and_its_embed_tokens_rule(tmp_path):
    config = _one(tmp_path, (
        "from unsloth import FastLanguageModel\n"
        "model, tokenizer = FastLanguageModel.from_pretrained(model_name='unsloth/llama-3-8b-bnb-4bit',\n"
        "                                                     max_seq_length=4096)\n"
        "model = FastLanguageModel.get_peft_model(model, r=32,\n"
        "    target_modules=['q_proj', 'v_proj', 'embed_tokens'], use_gradient_checkpointing='unsloth')\n"
    ))
    assert config.fields == {
        "r": 32, "target_modules": ["q_proj", "v_proj"], "modules_to_save": ["embed_tokens"], "lora_alpha": 16,
        "lora_dropout": 0.0, "bias": "none", "layers_to_transform": None, "layers_pattern": None,
        "use_rslora": False, "target_parameters": None, "task_type": "CAUSAL_LM",
    }
    assert config.model == "unsloth/llama-3-8b-bnb-4bit"
    assert config.quantization["bits"] == 4 and "unsloth's default: True" in config.quantization["source"]
    assert config.training.seq_len.value == 4096


def test_trainer_with_a_model_id_and_diffusers_components(tmp_path):
    trainer = _one(tmp_path, (
        "from peft import LoraConfig\nfrom trl import DPOTrainer\n"
        "cfg = LoraConfig(r=8)\n"
        "DPOTrainer(model='Qwen/Qwen2.5-0.5B', peft_config=cfg)\n"
    ))
    assert trainer.model == "Qwen/Qwen2.5-0.5B" and trainer.model_class is None
    unet = _one(tmp_path, (
        "from diffusers import UNet2DConditionModel\nfrom peft import LoraConfig\n"
        "unet = UNet2DConditionModel.from_pretrained('stable-diffusion-v1-5/stable-diffusion-v1-5', "
        "subfolder='unet')\n"
        "unet.add_adapter(LoraConfig(r=4, target_modules=['to_q']))\n"
    ), "dreambooth.py")
    assert (unet.model, unet.component) == ("stable-diffusion-v1-5/stable-diffusion-v1-5", "unet")


def test_several_configs_each_with_its_line_and_the_api_asks_which(tmp_path):
    code = HEAD + "a = LoraConfig(r=4)\nb = LoraConfig(r=8)\n"
    assert [c.label for c in _configs(tmp_path, code)] == ["line 3", "line 4"]
    with pytest.raises(AuditError) as caught:
        resolve_lora_config(file=tmp_path / "train.py")
    assert caught.value.code == "script-several-configs"
    assert resolve_lora_config(file=tmp_path / "train.py", select=1).config.r == 8


def test_a_script_that_builds_no_config_is_not_a_lora_config(tmp_path):
    with pytest.raises(AuditError) as caught:
        _configs(tmp_path, "print('hello')\n")
    assert caught.value.code == "not-a-lora-config"


def test_notebook_cells_in_order_magics_blanked_and_cell_lines(tmp_path):
    cells = [
        {"cell_type": "code", "source": ["%%capture\n", "!pip install peft\n", "import os"]},
        {"cell_type": "markdown", "source": ["# LoRA\n", "text"]},
        {"cell_type": "code", "source": ["%%bash\n", "echo LoraConfig(r=1)"]},
        {"cell_type": "code", "source": ["this is not valid ("]},
        {"cell_type": "code", "source": ["from peft import LoraConfig\n", "%time x = 1\n",
                                         "cfg = LoraConfig(\n", "    r=8,\n", "    target_modules=['q_proj'])"]},
    ]
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps({"cells": cells, "nbformat": 4, "nbformat_minor": 5, "metadata": {}}, indent=1))
    config = script_frontend.read_configs(load_config_file(path))[0]
    assert config.fields == {"r": 8, "target_modules": ["q_proj"]}
    assert config.label == "cell 5, line 3"
    r = next(a for a in config.arguments if a.name == "r")
    assert r.place.cell == "cell 5, line 4"
    # the file line of that code line, as the .ipynb text holds it (for SARIF and GitHub annotations)
    assert path.read_text().splitlines()[r.place.line - 1].strip() == '"    r=8,\\n",'
    assert any("cell 4" in step and "skipped" in step for step in config.steps)


def test_markdown_fences_tagged_python_in_order():
    text = "# t\n```bash\npip install x\n```\n\n```python\na = 1\n```\n~~~py\nb = 2\n~~~\n````\nc = 3\n````\n"
    assert markdown_blocks(text) == [(7, "a = 1"), (10, "b = 2")]
    assert blank_magics("!pip install x\n%env A=1\npip install y\npip = 3") == "\n\n\npip = 3"


@pytest.mark.parametrize("name, content, code", [
    ("broken.py", "LoraConfig(r=8,\n", "script-invalid"),
    ("deep.py", "from peft import LoraConfig\nx = " + "[" * 100_000 + "]" * 100_000 + "\n", "script-invalid"),
    ("nul.py", "from peft import LoraConfig\x00\n", "script-invalid"),
    ("bad.ipynb", "{not json", "script-invalid"),
    ("list.ipynb", "[1, 2]", "script-invalid"),
])
def test_code_that_is_not_python_is_a_one_line_error(tmp_path, name, content, code):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(AuditError) as caught:
        script_frontend.read_configs(load_config_file(path))
    assert caught.value.code == code and "\n" not in caught.value.message


def test_a_file_that_is_not_utf8_is_a_one_line_error(tmp_path):
    path = tmp_path / "train.py"
    path.write_bytes(b"from peft import LoraConfig\n# \xff\xfe\n")
    with pytest.raises(AuditError) as caught:
        load_config_file(path)
    assert caught.value.code == "lora-config-unreadable"


def test_deep_expressions_are_unresolved_or_refused_by_the_parser_never_a_crash(tmp_path):
    deep = "+".join(["1"] * 1_000)  # Python parses it; reading stops at its depth limit
    config = _one(tmp_path, HEAD + f"cfg = LoraConfig(r={deep}, target_modules=['q_proj'])\n")
    assert config.unresolved["r"].why == "nested too deeply to read"
    deeper = "+".join(["1"] * 20_000)  # past Python's own parser
    with pytest.raises(AuditError) as caught:
        _one(tmp_path, HEAD + f"cfg = LoraConfig(r={deeper})\n")
    assert caught.value.code == "script-invalid" and "too deeply" in caught.value.message


def test_a_script_without_a_suffix_is_recognised_by_its_content(tmp_path):
    config = _one(tmp_path, HEAD + "cfg = LoraConfig(r=8)\n", name="train")
    assert config.fields == {"r": 8}
