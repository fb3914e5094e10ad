"""The renderer registry: one module per format, each a pure function of the report that returns text."""

from __future__ import annotations

import importlib
import io
import json

import pytest
from rich.console import Console

from lora_audit import render
from lora_audit.cli import output
from lora_audit.cli.batch import CheckReport, Pair, PairResult
from lora_audit.render import RenderOptions, TerminalSpec
from lora_audit.render.terminal import render_terminal
from lora_audit.rules.engine import run_rules
from tests.factory import layer_names, report, target

ANSI = "\x1b["


@pytest.fixture(scope="module")
def audit():
    r = report(targets=[target("q_proj", layer_names("self_attn.q_proj")), target("c_attn")])
    r.findings = run_rules(r)
    return r


def test_every_format_is_one_module_with_a_name_and_a_renderer():
    names = []
    for module_name in render._MODULE_NAMES:
        module = importlib.import_module(f"lora_audit.render.{module_name}")
        assert callable(module.render) and render.RENDERERS[module.NAME] is module.render
        names.append(module.NAME)
    # The order --format lists them (and the README's usage line).
    assert tuple(names) == render.FORMATS == ("terminal", "json", "markdown", "sarif", "github", "gitlab")
    assert output.FORMATS == render.FORMATS


@pytest.mark.parametrize("fmt", render.FORMATS)
def test_a_renderer_returns_text_and_writes_nothing(fmt, audit, capsys):
    text = render.render(fmt, audit, RenderOptions(root="/repo"))
    assert isinstance(text, str) and text.endswith("\n") and "c_attn" in text
    assert render.render(fmt, audit, RenderOptions(root="/repo")) == text  # nothing but its inputs decides it
    assert capsys.readouterr() == ("", "")


@pytest.mark.parametrize("fmt", render.FORMATS)
def test_a_check_run_renders_in_every_format(fmt, audit):
    check = CheckReport(results=[PairResult(Pair(model="org/tiny-llama", config="lora.json"), report=audit)])
    text = render.render(fmt, check, RenderOptions(root="/repo"))
    assert "c_attn" in text
    if fmt == "json":
        assert json.loads(text)["check"]["pairs"][0]["report"]["findings"][0]["subject"] == "c_attn"


def test_json_is_the_reports_dict(audit):
    assert json.loads(render.render("json", audit)) == audit.to_dict()


def test_the_terminal_renderer_draws_for_the_terminal_it_is_told_about(audit):
    log = render.render("terminal", audit, RenderOptions(terminal=TerminalSpec(width=100)))
    tty = render.render("terminal", audit, RenderOptions(
        terminal=TerminalSpec(width=100, color_system="truecolor", is_terminal=True)))
    assert ANSI not in log and ANSI in tty
    # A CI log never breaks a finding inside a word: each finding's head is on one line.
    assert any(line.startswith("✖ LA001 error   c_attn: target_modules entry 'c_attn'") for line in log.splitlines())
    narrow = render.render("terminal", audit, RenderOptions(terminal=TerminalSpec(width=60, is_terminal=True)))
    assert max(len(line) for line in narrow.splitlines()) <= 60 < max(len(line) for line in log.splitlines())


def test_the_registry_renders_what_render_terminal_prints_on_that_console(audit):
    for spec in (TerminalSpec(width=100), TerminalSpec(width=72, color_system="256", is_terminal=True)):
        buffer = io.StringIO()
        console = Console(file=buffer, width=spec.width, color_system=spec.color_system,
                          force_terminal=spec.is_terminal, highlight=False, soft_wrap=False)
        render_terminal(audit, console, tree=True, coverage=True)
        options = RenderOptions(tree=True, coverage=True, terminal=spec)
        assert render.render("terminal", audit, options) == buffer.getvalue()
