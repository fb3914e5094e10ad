"""Every ``lora-audit`` command in README.md and docs/ runs as shown, and says what the docs say it says.

docs/rules.md is generated from the rules' docstrings (a test keeps it fresh), so each rule's Example is
collected there. A command is a line in a fenced block that starts with ``lora-audit`` or
``$ lora-audit`` (a trailing ``\\`` continues it). What the docs show after it, its ``# comment`` and
the output lines up to the next command, is its expectation:

- every finding code shown (``LA001``, ``LA001 x5`` for five of them) is among the findings;
- every number shown with thousands separators (``4,399,104``) or as a percentage is in the output;
- ``exit N`` shown is the exit code; otherwise the exit code is 0 or 1 (a verdict), never 2.

A block after ``<!-- synopsis -->`` is a synopsis (``lora-audit MODEL --adapter PATH``): its lines with
placeholders are not run. An example that needs what this environment lacks, or a file of the reader's
own, is listed in :data:`SKIPPED` with the reason, which the doc states next to the example.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

import pytest

from tests.conftest import ROOT

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
#: (doc, the command as written) -> why it is not run here; the doc says the same next to it.
SKIPPED: dict[tuple[str, str], str] = {
    ("rules.md", command): "on an adapter of the reader's own, not bundled (the rule's tests build one)"
    for command in (
        "lora-audit Qwen/Qwen2.5-0.5B --adapter ./renamed-adapter",
        "lora-audit Qwen/Qwen2.5-0.5B --task-type SEQ_CLS --adapter ./cls-adapter-without-head",
        "lora-audit Qwen/Qwen2.5-0.5B --adapter ./adapter",
        "lora-audit meta-llama/Llama-3.2-3B --adapter ./llama3-8b-adapter",
        "lora-audit Qwen/Qwen2.5-0.5B-Instruct --adapter ./adapter",
        "lora-audit Qwen/Qwen2.5-0.5B --adapter ./half-copied-adapter",
        "lora-audit Qwen/Qwen2.5-0.5B --adapter ./old-adapter",
        "lora-audit ./sdxl-unet --adapter ./style.safetensors",
    )
}
#: Examples that need an optional library: the marker selects them in that library's CI environment.
NEEDS = {"timm/": "timm"}
PLACEHOLDER = re.compile(r"\b[A-Z][A-Z_]{2,}\b")
CODE = re.compile(r"\b(LA\d{3})(?: x(\d+))?")
NUMBER = re.compile(r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?%|\d+\.\d+ GiB)")
EXIT = re.compile(r"\bexit (\d+)\b")


@dataclass
class Example:
    doc: str
    line: int
    command: str
    expected: list[str] = field(default_factory=list)
    synopsis: bool = False

    @property
    def id(self) -> str:
        return f"{self.doc}:{self.line}"


def _blocks(text: str):
    """(first line number, lines, after a synopsis marker) of each fenced block."""
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        fence = re.match(r"^\s*(```+|~~~)", lines[i])
        if fence:
            synopsis = i > 0 and "<!-- synopsis -->" in "\n".join(lines[max(0, i - 2):i])
            start, body = i + 2, []
            i += 1
            while i < len(lines) and not lines[i].strip().startswith(fence.group(1)):
                body.append(lines[i])
                i += 1
            yield start, body, synopsis
        i += 1


def collect() -> list[Example]:
    examples: list[Example] = []
    for path in DOCS:
        for start, body, synopsis in _blocks(path.read_text(encoding="utf-8")):
            current: Example | None = None
            # In a block that shows a session (``$ lora-audit ...`` then its output), only ``$`` lines are
            # commands: the output's own first line starts with "lora-audit" too.
            session = any(line.strip().startswith("$ lora-audit") for line in body)
            j = 0
            while j < len(body):
                text = body[j].strip()
                if session:
                    command = text[2:] if text.startswith("$ lora-audit") else None
                else:
                    command = text if text.startswith("lora-audit ") or text == "lora-audit" else None
                if command is not None:
                    line = start + j
                    while command.endswith("\\") and j + 1 < len(body):
                        j += 1
                        command = command[:-1].rstrip() + " " + body[j].strip()
                    command, _, comment = command.partition(" #")
                    current = Example(path.name, line, command.strip(), [comment] if comment else [], synopsis)
                    examples.append(current)
                elif current is not None:
                    current.expected.append(text)
                j += 1
    return examples


EXAMPLES = collect()


def _runnable(example: Example) -> bool:
    return not (example.synopsis and PLACEHOLDER.search(example.command))


def _params():
    for example in EXAMPLES:
        if not _runnable(example):
            continue
        marks = [getattr(pytest.mark, mark) for key, mark in NEEDS.items() if key in example.command]
        if "--memory" in example.command:
            marks.append(pytest.mark.slow)  # one fake training step each
        yield pytest.param(example, id=example.id, marks=marks)


@pytest.mark.parametrize("example", _params())
def test_the_example_runs_as_shown(example, cli, monkeypatch):
    reason = SKIPPED.get((example.doc, example.command))
    if reason is not None:
        pytest.skip(reason)
    for key, module in NEEDS.items():
        if key in example.command:
            pytest.importorskip(module, reason=f"needs {module}: run by .ci/{module}")
    monkeypatch.chdir(ROOT)  # paths in the docs are from the checkout's root
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # no hub here: the catalogue answers, as the docs say
    args = shlex.split(example.command)[1:]
    result = cli(*args)
    shown = "\n".join(example.expected)
    out = result.out + result.err
    exit_shown = EXIT.search(shown)
    if "lora-audit: error:" in shown:  # the docs show the one-line error of bad input
        assert result.code == 2, out[-2000:]
    elif exit_shown:
        assert result.code == int(exit_shown.group(1)), (result.code, out[-2000:])
    else:
        assert result.code in (0, 1), out[-2000:]
    found = re.findall(r"\bLA\d{3}\b", out)
    for code, times in CODE.findall(shown):
        assert code in found, (code, out[-3000:])
        if times:
            assert _finding_count(out, code) == int(times), (code, times)
    flat = " ".join(out.split())
    for number in NUMBER.findall(shown):
        assert number in flat or number.replace(",", "") in flat, (number, out[-3000:])


def _finding_count(out: str, code: str) -> int:
    return len(re.findall(rf"(?m)^[✖▲●]\s+{code}\b", out))


def test_every_skip_names_an_example_that_is_still_in_the_docs():
    commands = {(e.doc, e.command) for e in EXAMPLES}
    assert not [key for key in SKIPPED if key not in commands]


def test_the_collector_sees_the_readme_main_command_and_every_rule_example():
    from lora_audit.rules import RULES

    ids = {e.command for e in EXAMPLES}
    assert "lora-audit Qwen/Qwen2.5-0.5B --config fixtures/lora/tutorial-gpt2-names.json --offline" in ids
    with_examples = [r for r in RULES if "lora-audit " in r.sections().get("Example", "")]
    in_rules_doc = [e for e in EXAMPLES if e.doc == "rules.md"]
    assert len(in_rules_doc) >= len(with_examples)
