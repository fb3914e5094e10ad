"""Hostile training scripts and notebooks are just text: a one-line exit 2 or a clear "cannot resolve", fast."""

from __future__ import annotations

import json

import pytest

from tests.integration.hostile.helpers import QWEN, assert_bad_input

CONFIG = "from peft import LoraConfig\ncfg = LoraConfig(r=8, target_modules=['q_proj'])\n"


def test_ten_megabytes_of_code_are_refused_before_parsing(cli, validate, tmp_path):
    path = tmp_path / "huge.py"
    path.write_text(CONFIG + "x = [1, 2, 3]\n" * 700_000)
    assert_bad_input(cli, validate, [QWEN, "--config", path], "lora-config-too-large", "of code", "huge.py")


def test_a_notebook_with_a_fifty_megabyte_output_cell_is_read(cli, tmp_path):
    cells = [{"cell_type": "code", "source": CONFIG.splitlines(keepends=True),
              "outputs": [{"output_type": "stream", "name": "stdout", "text": ["x" * 50_000_000]}]}]
    path = tmp_path / "big.ipynb"
    path.write_text(json.dumps({"cells": cells, "nbformat": 4, "nbformat_minor": 5, "metadata": {}}, indent=1))
    result = cli(QWEN, "--config", path, "--format", "json")
    assert result.code == 0 and result.json()["params"]["trainable"] == 8 * (896 + 896) * 24


@pytest.mark.parametrize("name, content, code, fragment", [
    ("deep.py", "from peft import LoraConfig\nx = " + "[" * 100_000 + "]" * 100_000 + "\n", "script-invalid",
     "too many nested parentheses"),
    ("syntax.py", "from peft import LoraConfig\nLoraConfig(r=8\n", "script-invalid", "not valid Python (line 2)"),
    ("bad.ipynb", '{"cells": [', "script-invalid", "not a Jupyter notebook"),
    ("loop.py", CONFIG.replace("cfg =", "for r in (8, 16):\n    cfg =") .replace("r=8", "r=r"),
     "script-not-understood", "inside the loop at line 2"),
    ("rebound.py", "from peft import LoraConfig\nrank = 8\nwhile rank < 64:\n    rank *= 2\n"
     "cfg = LoraConfig(r=rank, target_modules=['q_proj'])\n", "script-unresolved", "pass it with -r/--rank"),
])
def test_code_lora_audit_cannot_read_is_one_line_and_exit_2(cli, validate, tmp_path, name, content, code, fragment):
    path = tmp_path / name
    path.write_text(content)
    assert_bad_input(cli, validate, [QWEN, "--config", path], code, fragment)


def test_a_script_that_is_not_utf8_is_one_line_and_exit_2(cli, validate, tmp_path):
    path = tmp_path / "latin1.py"
    path.write_bytes(CONFIG.encode() + b"# caf\xe9\n")
    assert_bad_input(cli, validate, [QWEN, "--config", path], "lora-config-unreadable", "latin1.py")
