"""Golden files of the exact text users read (terminal without colour, and markdown).

A change in the rendering shows up as a diff of ``tests/golden/*``. To accept an intended change:
``LORA_AUDIT_UPDATE_GOLDEN=1 pytest tests/integration/cli/test_golden.py`` and review the diff.
"""

from __future__ import annotations

import io
import os

import pytest
from rich.console import Console

import lora_audit
from lora_audit.render.markdown import render_markdown
from lora_audit.render.terminal import render_terminal
from tests.conftest import LORA, ROOT

GOLDEN = ROOT / "tests" / "golden"
#: Config files by their path from the repository root (the audits run there), so reports name them
#: the same on every machine.
REL_LORA = LORA.relative_to(ROOT)

AUDITS = {
    "qwen-tutorial-names": (
        "Qwen/Qwen2.5-0.5B",
        {"config_file": REL_LORA / "tutorial-gpt2-names.json"},
        {},
    ),
    "axolotl-mixtral-example": (
        None,
        {"config_file": REL_LORA.parent / "axolotl" / "mistral-mixtral-mixtral.yml"},
        {},
    ),
    # Names a config can hold that would break a PR comment or the terminal: newlines, pipes, links,
    # mentions, HTML, backticks, a lone surrogate (issue 11, item 6).
    "qwen-hostile-names": (
        "Qwen/Qwen2.5-0.5B",
        {"config_file": "fixtures/lora/hostile-names.json"},
        {},
    ),
    "hyperclovax-all-linear-saved": (
        "naver-hyperclovax/HyperCLOVAX-SEED-Text-Instruct-0.5B",
        {"overrides": {"r": 16, "lora_alpha": 32, "target_modules": "all-linear",
                       "modules_to_save": ["lm_head", "embed_token"]}},
        {"tree": True, "coverage": True},
    ),
    "flux-user-targets": (
        "black-forest-labs/FLUX.1-dev",
        {"overrides": {"r": 16, "target_modules": ["to_k", "to_q", "to_v", "to_out.0", "to_add_out", "ff.0"]}},
        {},
    ),
    "qwen2-tiny-resized-adapter": (
        "fixtures/tiny/qwen2",
        {"adapter": "fixtures/adapters/qwen2-tiny-resized"},
        {},
    ),
    # A training script and an unsloth notebook, read statically: the translation with lines and cells.
    "qwen-tutorial-script": (
        None,
        {"config_file": REL_LORA.parent / "scripts" / "tutorial-gpt2-names.py"},
        {},
    ),
    "llama3-unsloth-notebook": (
        "meta-llama/Meta-Llama-3-8B",
        {"config_file": REL_LORA.parent / "scripts" / "unsloth-llama3.ipynb"},
        {},
    ),
    "deepseek-v3-fp8-qlora-request": (
        "deepseek-ai/DeepSeek-V3",
        {"overrides": {"target_modules": ["q_a_proj", "kv_a_proj_with_mqa", "lm_head"], "init_lora_weights": "pissa"},
         "quantization_request": {"method": "bitsandbytes", "bits": 4, "source": "qlora.yml: load_in_4bit"}},
        {},
    ),
}


#: Each golden audit runs once per session; the renderers are pure functions of the report.
_AUDITED: dict[str, lora_audit.Report] = {}


def audited(model, kwargs):
    key = repr((model, sorted(kwargs.items())))
    if key not in _AUDITED:
        report = lora_audit.audit(model, **kwargs)
        if report.model.library != "transformers":
            report.model.library_version = "X.Y.Z"  # golden files must not change with an optional library's release
        _AUDITED[key] = report
    return _AUDITED[key]


def terminal_text(report, width=100, plain=False, **flags) -> str:
    """What a terminal shows (``plain=False``), or what a CI log gets (``plain=True``: stdout is not a tty)."""
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, color_system=None, force_terminal=False, no_color=True,
                      highlight=False, legacy_windows=False, emoji=False)
    render_terminal(report, console, plain=plain, **flags)
    return "\n".join(line.rstrip() for line in buffer.getvalue().splitlines()) + "\n"


@pytest.fixture(autouse=True)
def _at_the_root(monkeypatch):
    """Paths as a user in the checkout types them: relative, so table widths do not depend on where it is."""
    monkeypatch.chdir(ROOT)


def check_golden(name: str, text: str) -> None:
    text = text.replace(str(ROOT) + "/", "")  # paths under the checkout, wherever it is
    path = GOLDEN / name
    if os.environ.get("LORA_AUDIT_UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"missing golden file {path}; run with LORA_AUDIT_UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(AUDITS))
def test_terminal_rendering(name):
    model, kwargs, flags = AUDITS[name]
    report = audited(model, kwargs)
    check_golden(f"{name}.terminal.txt", terminal_text(report, **flags))


@pytest.mark.parametrize("name", sorted(AUDITS))
def test_markdown_rendering(name):
    model, kwargs, _ = AUDITS[name]
    report = audited(model, kwargs)
    check_golden(f"{name}.md", render_markdown(report))


def test_cli_prints_the_same_markdown(cli, monkeypatch):
    monkeypatch.chdir(ROOT)  # the config file by its path from the root, as in the golden file (no settings there)
    result = cli("Qwen/Qwen2.5-0.5B", "--config", REL_LORA / "tutorial-gpt2-names.json", "--format", "markdown")
    assert result.code == 1
    assert result.out == (GOLDEN / "qwen-tutorial-names.md").read_text(encoding="utf-8")


# --------------------------------------------------------------------------- CI logs and CI formats
#: A local model (findings point at its config.json) and a hub id (they point at the model id).
CI_AUDITS = {
    "qwen-tutorial-names": AUDITS["qwen-tutorial-names"][:2],
    "gpt2-local-q-proj": (
        str(ROOT / "fixtures" / "models" / "openai-community--gpt2"),
        {"overrides": {"r": 8, "target_modules": ["c_attn", "q_proj"]}},
    ),
}


@pytest.mark.parametrize("name", sorted(AUDITS))
def test_log_rendering_at_the_default_width(name):
    """Not a terminal (a CI log), 80 columns as rich defaults to: no name or code broken across lines."""
    model, kwargs, flags = AUDITS[name]
    report = audited(model, kwargs)
    text = terminal_text(report, width=80, plain=True, **flags)
    check_golden(f"{name}.log.txt", text)
    words = text.split()
    for m in report.targets + report.modules_to_save:
        if m.pattern.isprintable() and not any(ch.isspace() for ch in m.pattern):  # hostile names aside
            assert any(m.pattern in w for w in words), m.pattern
    for row in report.adapted_modules:
        leaf = row.name.rsplit(".", 1)[-1]
        assert any(leaf in w for w in words), leaf
    for f in report.findings:
        assert f.code in words
        if f.subject.isprintable() and not any(ch.isspace() for ch in f.subject):
            assert f"{f.subject}:" in words, f.subject


def test_cli_log_output_is_the_golden(cli, monkeypatch):
    monkeypatch.delenv("COLUMNS")
    monkeypatch.chdir(ROOT)  # the path as a user in the checkout types it
    result = cli("Qwen/Qwen2.5-0.5B", "--config", "fixtures/lora/tutorial-gpt2-names.json")
    assert result.code == 1
    golden = (GOLDEN / "qwen-tutorial-names.log.txt").read_text(encoding="utf-8")
    assert "\n".join(line.rstrip() for line in result.out.splitlines()) + "\n" == golden


@pytest.mark.parametrize("name", sorted(CI_AUDITS))
@pytest.mark.parametrize("fmt", ["github", "gitlab"])
def test_ci_formats(name, fmt):
    from lora_audit.render.github import render_github
    from lora_audit.render.gitlab import render_gitlab

    model, kwargs = CI_AUDITS[name]
    report = audited(model, kwargs)
    render = render_github if fmt == "github" else render_gitlab
    check_golden(f"{name}.{fmt}.txt" if fmt == "github" else f"{name}.{fmt}.json", render(report, str(ROOT)))


def test_help_lists_the_commands(cli):
    """``lora-audit --help``: the audit's options, its examples, and every other command (a golden file)."""
    result = cli("--help")
    assert result.code == 0
    check_golden("help.txt", result.out)
    for name in ("adapter", "diff", "rules", "check"):
        assert f"\n  {name} " in result.out


# --------------------------------------------------------------------------- narrow terminals
NARROW = ("qwen-tutorial-names", "flux-user-targets", "hyperclovax-all-linear-saved")


@pytest.mark.parametrize("width", [60, 80])
@pytest.mark.parametrize("name", NARROW)
def test_a_narrow_terminal_shows_every_column_and_never_breaks_a_name(name, width):
    """A real terminal (rich's emulation) of 60 and 80 columns: a table too wide for it becomes records."""
    from lora_audit.render import _common as c

    model, kwargs, flags = AUDITS[name]
    report = audited(model, kwargs)
    text = terminal_text(report, width=width, **flags)
    check_golden(f"{name}.terminal-{width}.txt", text)
    words = text.split()
    assert "…" not in text  # nothing truncated
    for m in report.targets + report.modules_to_save:
        assert m.pattern in words, m.pattern
    for m in report.targets:  # a module name, as the table summarises it, is never folded across lines
        for module in c.summarize(m.modules).split(", "):
            if module.startswith("+") and module.endswith(" more"):
                continue
            assert module in words or f"{module}," in words, module
    for header in ("n", "k", "d", "r", "alpha", c.cost_header(report), "d·k", "ratio"):
        assert header in words, header
    for row in report.adapted_modules:
        assert c.ratio(row.ratio) in words and c.n(row.lora_params) in words
