"""Error codes are data: every code raised is in lora_audit/errors/codes.py, every code there is raised,
and docs/errors.md is generated from it."""

from __future__ import annotations

import ast

from lora_audit.errors import AuditError
from lora_audit.errors.codes import CODES, SECTIONS
from lora_audit.errors.docs import errors_markdown
from tests.conftest import ROOT

SOURCES = sorted(p for p in (ROOT / "lora_audit").rglob("*.py") if p.parts[-2:] != ("errors", "codes.py"))


def _code_parameters(trees) -> dict[str, int]:
    """Functions of the package that take an error code to raise: name -> position of their ``code`` argument."""
    positions = {"AuditError": 0}
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                names = [a.arg for a in node.args.posonlyargs + node.args.args]
                if names and names[0] in ("self", "cls"):
                    names = names[1:]
                if "code" in names:
                    positions[node.name] = names.index("code")
    return positions


def codes_raised() -> set[str]:
    """Every literal handed to AuditError (or to a function that raises it with its ``code`` argument)."""
    trees = [ast.parse(p.read_text(encoding="utf-8")) for p in SOURCES]
    positions = _code_parameters(trees)
    found: set[str] = set()
    for tree in trees:
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
            if name not in positions:
                continue
            candidates = [k.value for k in node.keywords if k.arg == "code"]
            if len(node.args) > positions[name]:
                candidates.append(node.args[positions[name]])
            found |= {c.value for c in candidates if isinstance(c, ast.Constant) and isinstance(c.value, str)}
    return found


def test_every_code_raised_is_registered_and_every_registered_code_is_raised():
    raised = codes_raised()
    assert len(raised) > 60, "the walk that finds error codes in lora_audit/ stopped working"
    assert raised - CODES.keys() == set(), "add these codes to lora_audit/errors/codes.py"
    assert CODES.keys() - raised == set(), "lora_audit/errors/codes.py lists codes nothing raises any more"


def test_the_walk_finds_a_code_passed_through_a_helper():
    # read_small_text(path, what, code) raises the code it is given: its callers' literals count
    assert "lora-config-unreadable" in codes_raised()


def test_every_code_is_documented_in_a_known_section():
    for entry in CODES.values():
        assert entry.section in SECTIONS, entry.code
        assert entry.message.strip(), entry.code
        assert entry.code == entry.code.lower() and " " not in entry.code


def test_errors_doc_is_generated_from_the_registry():
    assert (ROOT / "docs" / "errors.md").read_text(encoding="utf-8") == errors_markdown(), (
        "docs/errors.md is stale: run python scripts/gen_errors_doc.py"
    )


def test_an_error_carries_a_registered_code():
    error = AuditError("model-missing", "no model given", "pass MODEL")
    assert error.code in CODES and error.one_line() == "no model given. pass MODEL."


def test_an_error_with_an_unregistered_code_cannot_be_made():
    """A code missing from the registry is a bug, refused where the error is made (tests find it first)."""
    import pytest

    with pytest.raises(ValueError, match="unregistered error code 'no-such-code'"):
        AuditError("no-such-code", "message", "hint")
