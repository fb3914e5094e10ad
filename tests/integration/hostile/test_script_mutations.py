"""Mutated training scripts: every one is read, or refused with an AuditError; none is an internal error."""

from __future__ import annotations

import random

import pytest

from lora_audit.config.frontends import python as script_frontend
from lora_audit.config.loading import load_config_file
from lora_audit.config.lora_config import resolve_lora_config
from lora_audit.errors import AuditError
from tests.conftest import FIXTURES

SCRIPTS = sorted((FIXTURES / "scripts").glob("*.py"))
#: Pieces spliced into scripts: names, calls and constructs the reader follows or must refuse.
PIECES = ["r=", "args.rank", "**kw", "*xs", "[", "]", "(", ")", "LoraConfig(", "get_peft_model(model, cfg)",
          "for i in x:\n    ", "if a:\n    ", "lambda: ", "{'r': 8}", "f'{x}'", "TaskType.", "del targets\n",
          "targets += 1\n", "x = y = LoraConfig(r=1)\n", "async def f():\n    await g()\n", "yield\n", "\n", ":"]


def _mutants(text: str, seed: int, count: int) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        lines = text.splitlines(keepends=True)
        for _ in range(rng.randint(1, 4)):
            i = rng.randrange(len(lines))
            what = rng.random()
            if what < 0.3:
                del lines[i]
            elif what < 0.6:
                j = rng.randrange(len(lines[i]) + 1)
                lines[i] = lines[i][:j] + rng.choice(PIECES) + lines[i][j:]
            else:
                lines.insert(i, rng.choice(lines))
            if not lines:
                lines = ["\n"]
        out.append("".join(lines))
    return out


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.name)
def test_mutated_scripts_never_crash_the_reader(path, tmp_path):
    target = tmp_path / path.name
    for text in _mutants(path.read_text(), seed=len(path.name), count=60):
        target.write_text(text)
        try:
            configs = script_frontend.read_configs(load_config_file(target))
            for index in range(len(configs)):
                resolve_lora_config(file=target, select=index)
        except AuditError:
            continue
