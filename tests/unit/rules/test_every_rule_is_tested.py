"""Every rule module has a unit-test file here, named after it, with FIRES and QUIET cases on facts."""

from __future__ import annotations

import ast
from pathlib import Path

from lora_audit import rules

HERE = Path(__file__).resolve().parent


def test_each_rule_module_has_its_test_file_with_cases_that_fire_and_that_stay_quiet():
    for module in rules._MODULE_NAMES:
        path = HERE / f"test_{module}.py"
        assert path.is_file(), f"{module} has no unit tests: add {path.relative_to(HERE.parents[2])}"
        tree = ast.parse(path.read_text(encoding="utf-8"))
        tests = [node.name for node in tree.body if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")]
        code = next(node.value.value for node in tree.body if isinstance(node, ast.Assign)
                    and any(isinstance(t, ast.Name) and t.id == "CODE" for t in node.targets))
        assert code == module[:5].upper(), f"{path.name} tests {code}, not {module[:5].upper()}"
        assert any("quiet" in name for name in tests), f"{path.name} has no QUIET case"
        assert any("quiet" not in name for name in tests), f"{path.name} has no case where the rule fires"
