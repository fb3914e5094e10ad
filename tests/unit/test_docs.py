"""Docs that must match behaviour: the rule catalogue, the schema copy, the README."""

from __future__ import annotations

import re

from lora_audit.rules import RULES
from lora_audit.rules.docs import rules_markdown
from tests.conftest import ROOT, SCHEMA


def test_rules_doc_is_generated_from_the_docstrings():
    assert (ROOT / "docs" / "rules.md").read_text(encoding="utf-8") == rules_markdown(), (
        "docs/rules.md is stale: run python scripts/gen_rules_doc.py"
    )


def test_every_rule_is_documented_completely():
    for rule in RULES:
        sections = rule.sections()
        for title in ("What it checks", "Why it matters", "Example", "Fix"):
            assert sections.get(title, "").strip(), f"{rule.code} lacks '{title}'"
        assert re.fullmatch(r"LA\d{3}", rule.code) and rule.severity in ("error", "warning", "info")
    assert len({r.code for r in RULES}) == len(RULES) and len({r.name for r in RULES}) == len(RULES)


def test_schema_in_docs_is_the_shipped_one():
    assert (ROOT / "docs" / "report.schema.json").read_text() == SCHEMA.read_text()


def test_readme_has_exactly_two_setup_commands_and_ci_runs_the_test_one():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert readme.count("<!-- main-command -->") == 1 and readme.count("<!-- test-command -->") == 1
    ci = (ROOT / ".ci" / "run").read_text()
    assert "<!-- test-command -->" in ci
    main = readme.split("<!-- main-command -->", 1)[1].split("```bash\n", 1)[1].split("\n```", 1)[0]
    assert "--offline" in main and "fixtures/lora/" in main


def test_readme_example_is_the_real_output():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("## What you get", 1)[1].split("```text\n", 1)[1].split("\n```", 1)[0]
    shown = block.split("\n", 1)[1]  # without the "$ lora-audit ..." line
    golden = (ROOT / "tests" / "golden" / "qwen-tutorial-names.terminal.txt").read_text(encoding="utf-8")
    assert shown.strip() == golden.strip()


def test_readme_links_the_errors_page():
    assert "(docs/errors.md)" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_names_every_version_the_cache_key_holds():
    """One list: the README's sentence names exactly the packages in lora_audit.cli.cache.VERSIONED."""
    from lora_audit.cli.cache import VERSIONED

    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    named = readme.split("the versions of Python and of these packages: ", 1)[1].split(" (installed or not)", 1)[0]
    assert [name.strip() for name in named.split(",")] == list(VERSIONED)


def test_no_install_command_names_a_distribution_no_index_has():
    """lora-audit-cli is not on PyPI: every pip install of it is from a path, a git URL or a local wheel."""
    import re

    texts = {path: path.read_text(encoding="utf-8") for path in
             [ROOT / "README.md", ROOT / "action.yml", ROOT / ".pre-commit-hooks.yaml", *(ROOT / "docs").glob("*.md"),
              *(ROOT / "lora_audit").rglob("*.py")]}
    for path, text in texts.items():
        for line in text.splitlines():
            for command in re.findall(r"pip install[^`;&|]*", line):
                if "lora-audit-cli" in command and "@ git+" not in command and "--find-links" not in command:
                    raise AssertionError(f"{path.relative_to(ROOT)}: {command.strip()}")


def test_the_readme_install_commands_are_the_ones_ci_tries():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("<!-- install-commands -->", 1)[1].split("```bash\n", 1)[1].split("\n```", 1)[0]
    ci = (ROOT / ".ci" / "install").read_text()
    assert "bash .ci/install" in (ROOT / ".ci" / "run").read_text()
    for form, tried in (("pip install .", 'pip install -q "$root"'),
                        ("git+https://github.com/lora-audit/lora-audit", '"lora-audit-cli @ git+file://localhost$root"'),
                        ("pip install --no-index --find-links dist lora-audit-cli",
                         'pip install -q --no-index --find-links "$work/dist" lora-audit-cli')):
        assert form in block and tried in ci, form


def test_rule_texts_have_no_rst_markup_and_keep_line_continuations():
    """`lora-audit rules CODE` and docs/rules.md: no ``double backticks``, no `::`, and a `\\` stays a `\\`."""
    from lora_audit.rules import RULES
    from lora_audit.rules.docs import rule_text, rules_markdown

    for text in [rule_text(rule) for rule in RULES] + [rules_markdown()]:
        assert "``" not in text.replace("```", "")
        assert not [line for line in text.splitlines() if line.rstrip().endswith("::")]
    la003 = rule_text(next(r for r in RULES if r.code == "LA003"))
    assert "--targets all-linear \\\n        --modules-to-save lm_head,embed_token" in la003
