"""The registry of error codes (lora_audit/errors/codes.py): complete, used, and the source of docs/errors.md.

The source is read with ``ast``: every string literal that reaches an AuditError as its code (its first
argument, ``code=``, an argument to a lora_audit function's ``code`` parameter, or a ``code = ...``
assignment) must be registered, and every registered code must be one of them.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from lora_audit.errors import AuditError, internal_error
from lora_audit.errors.codes import CODES, CODES_IN_ORDER
from lora_audit.errors.docs import errors_markdown
from tests.conftest import ROOT

SOURCE = ROOT / "lora_audit"
REGISTRY = SOURCE / "errors" / "codes.py"


def _trees() -> dict[Path, ast.Module]:
    return {path: ast.parse(path.read_text(encoding="utf-8")) for path in sorted(SOURCE.rglob("*.py"))
            if path != REGISTRY}


def _name(call: ast.Call) -> str | None:
    func = call.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None


def _strings(node: ast.AST | None) -> list[ast.Constant]:
    """The string literals an expression can evaluate to (``"a"``, ``"a" if x else "b"``)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node]
    if isinstance(node, ast.IfExp):
        return _strings(node.body) + _strings(node.orelse)
    return []


def _code_parameters(trees: dict[Path, ast.Module]) -> dict[str, tuple[int, str]]:
    """lora_audit's functions that take a ``code`` parameter: name -> (its position, its default)."""
    found: dict[str, tuple[int, str]] = {}
    for tree in trees.values():
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                names = [a.arg for a in node.args.args]
                if "code" in names and node.name != "__init__":
                    position = names.index("code") - (1 if names[0] in ("self", "cls") else 0)
                    defaults = dict(zip(names[::-1], node.args.defaults[::-1], strict=False))
                    default = defaults.get("code")
                    found[node.name] = (position, default.value if isinstance(default, ast.Constant) else "")
    return found


def _raises_variable_code(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """Whether the function makes an AuditError whose code is its local variable ``code``."""
    return any(isinstance(call, ast.Call) and _name(call) == "AuditError" and call.args
               and isinstance(call.args[0], ast.Name) and call.args[0].id == "code" for call in ast.walk(function))


def codes_in_source() -> dict[str, list[str]]:
    """Every literal error code in lora_audit/, with where it is (``path:line``)."""
    trees = _trees()
    takes_code = _code_parameters(trees)
    found: dict[str, list[str]] = {}

    def add(path: Path, literals: list[ast.Constant]) -> None:
        for literal in literals:
            found.setdefault(literal.value, []).append(f"{path.relative_to(ROOT)}:{literal.lineno}")

    for path, tree in trees.items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name = _name(node)
                keyword = next((k.value for k in node.keywords if k.arg == "code"), None)
                if name == "AuditError":
                    add(path, _strings(node.args[0] if node.args else keyword))
                elif name in takes_code:
                    position, _ = takes_code[name]
                    add(path, _strings(node.args[position] if len(node.args) > position else keyword))
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and _raises_variable_code(node):
                for assign in ast.walk(node):
                    if isinstance(assign, ast.Assign) and any(
                        isinstance(t, ast.Name) and t.id == "code" for t in assign.targets
                    ):
                        add(path, _strings(assign.value))
    for name, (_, default) in takes_code.items():
        if default:
            found.setdefault(default, []).append(f"default of {name}()")
    return found


def test_every_code_in_the_source_is_registered():
    found = codes_in_source()
    assert len(found) > 60, "the walk that finds error codes in lora_audit/ stopped working"
    unregistered = {code: where for code, where in found.items() if code not in CODES}
    assert not unregistered, f"register these codes in lora_audit/errors/codes.py: {unregistered}"


def test_every_registered_code_is_used():
    unused = set(CODES) - set(codes_in_source())
    assert not unused, f"lora_audit/errors/codes.py registers codes nothing raises any more: {sorted(unused)}"


def test_the_walk_finds_codes_passed_through_helpers():
    """The codes that reach AuditError through a parameter (read_small_text, check_numbers...) are found."""
    found = codes_in_source()
    assert "lora-config-unreadable" in found and "config-unreadable" in found
    assert "adapter-weights-not-found" in found  # `code = "..." if ... else "..."`


def test_an_unregistered_code_cannot_be_made():
    with pytest.raises(ValueError, match="unregistered error code 'no-such-code'"):
        AuditError("no-such-code", "message", "hint")
    assert AuditError("usage", "m").entry is CODES["usage"]
    assert internal_error(KeyError("x")).code == "internal-error"
    assert internal_error(MemoryError()).code == "budget-exceeded"


def test_every_entry_is_complete():
    assert len(CODES) == len(CODES_IN_ORDER), "a code is registered twice"
    for entry in CODES_IN_ORDER:
        assert re.fullmatch(r"[a-z][a-z0-9]*(-[a-z0-9]+)*", entry.code), entry.code
        assert entry.title.strip() and not entry.title.endswith("."), entry.code
        assert entry.meaning.strip() and entry.fix.strip(), entry.code
    sections = [entry.section for entry in CODES_IN_ORDER]
    assert all(a is b or b not in sections[:i] for i, (a, b) in enumerate(zip(sections, sections[1:], strict=False))), (
        "a section's codes are not together"
    )


def test_errors_doc_is_generated_from_the_registry():
    assert (ROOT / "docs" / "errors.md").read_text(encoding="utf-8") == errors_markdown(), (
        "docs/errors.md is stale: run python scripts/gen_errors_doc.py"
    )


def test_errors_doc_lists_every_code_once():
    headings = re.findall(r"^### `([a-z0-9-]+)`$", errors_markdown(), re.M)
    assert headings == [entry.code for entry in CODES_IN_ORDER]


def test_readme_links_the_errors_page():
    assert "(docs/errors.md)" in (ROOT / "README.md").read_text(encoding="utf-8")
