"""lora_audit's import graph: no cycle, and function-local imports only for heavy libraries.

The graph is built from the source, not from a running interpreter, so an import that runs only
inside a function counts as much as one at the top of a module. An edge goes from a module to
every lora_audit module one of its import statements names:

- ``import lora_audit.a.b`` and ``from lora_audit.a import b`` (``b`` a submodule) -> ``lora_audit.a.b``;
- ``from lora_audit.a import name`` (``name`` defined in ``a``) -> ``lora_audit.a``;
- relative imports likewise, resolved against the importing module;
- a registry's ``importlib.import_module`` over its ``_MODULE_NAMES`` -> each module named there
  (rules, front-ends, model libraries: the registry loads them as surely as an import statement would).

Imports under ``if TYPE_CHECKING:`` are for the type checker only and never run: they are left out.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "lora_audit"

#: The libraries a function may import locally: importing them costs seconds or pulls in torch, and
#: ``lora-audit --help`` (tests/integration/cli/test_startup.py) and a cache hit
#: (tests/integration/cli/test_cache.py) must not pay for them.
HEAVY = frozenset({
    "torch", "transformers", "peft", "diffusers", "timm", "torchvision", "huggingface_hub", "bitsandbytes",
    "accelerate", "safetensors", "sentence_transformers", "trl",
})

#: (module, imported module) -> why this function-local import cannot be at module level. Empty, and
#: meant to stay so: a function-local import of lora_audit's own modules hides a cycle or a cost.
ALLOWED_LOCAL: dict[tuple[str, str], str] = {}


@dataclass(frozen=True)
class Import:
    importer: str
    target: str  #: the module the statement names (resolved; for own modules, the submodule when it is one)
    line: int
    local: bool  #: inside a function body


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def own_modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _package_of(name: str, path: Path) -> str:
    return name if path.name == "__init__.py" else name.rpartition(".")[0]


def _registry_names(tree: ast.Module) -> list[str] | None:
    for node in tree.body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == "_MODULE_NAMES" for t in targets):
                return list(ast.literal_eval(node.value))
    return None


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> list[Import]:
    """Every import statement of one module (TYPE_CHECKING blocks left out), resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = _package_of(name, path)
    found: list[Import] = []

    def add(target: str, line: int, local: bool) -> None:
        found.append(Import(name, target, line, local))

    def visit(node: ast.AST, local: bool) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                visit(child, local)
            return
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            local = True
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name, node.lineno, local)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            for alias in node.names:
                submodule = f"{source}.{alias.name}"
                add(submodule if submodule in modules else source, node.lineno, local)
        elif isinstance(node, ast.Call) and _is_import_module(node.func):
            for target in _dynamic_targets(node, tree, name, path):
                add(target, node.lineno, local)
        for child in ast.iter_child_nodes(node):
            visit(child, local)

    visit(tree, False)
    return found


def _is_import_module(func: ast.expr) -> bool:
    return (isinstance(func, ast.Attribute) and func.attr == "import_module") or (
        isinstance(func, ast.Name) and func.id in ("import_module", "__import__")
    )


def _dynamic_targets(call: ast.Call, tree: ast.Module, name: str, path: Path) -> list[str]:
    first = call.args[0] if call.args else None
    if isinstance(first, ast.Constant) and isinstance(first.value, str) and not first.value.startswith("."):
        return [first.value]
    registry = _registry_names(tree)
    assert registry is not None, (
        f"{name} (line {call.lineno}) imports a module by a computed name, and has no _MODULE_NAMES tuple "
        "this test can read: list the modules it loads in _MODULE_NAMES, or import them by name"
    )
    package = _package_of(name, path)
    return [f"{package}.{module}" for module in registry]


def graph() -> tuple[dict[str, set[str]], list[Import]]:
    modules = own_modules()
    edges: dict[str, set[str]] = {m: set() for m in modules}
    every: list[Import] = []
    for name, path in modules.items():
        for imp in imports_of(name, path, modules):
            every.append(imp)
            if imp.target.split(".")[0] == "lora_audit" and imp.target != name:
                assert imp.target in modules, f"{name}:{imp.line} imports {imp.target}, which is not a module"
                edges[name].add(imp.target)
    return edges, every


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One cycle (its modules in order, the first repeated at the end), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(edges[node]):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(edges):
        if start not in state:
            cycle = visit(start)
            if cycle:
                return cycle
    return None


def test_the_package_has_no_import_cycle():
    edges, _ = graph()
    cycle = find_cycle(edges)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_function_local_imports_are_of_heavy_libraries_only():
    _, every = graph()
    local = [imp for imp in every if imp.local and imp.target.split(".")[0] not in HEAVY]
    bad = [f"{imp.importer}:{imp.line} imports {imp.target}" for imp in local
           if (imp.importer, imp.target) not in ALLOWED_LOCAL]
    assert not bad, "import these at module level (a function-local import is for a heavy library only):\n" + "\n".join(
        bad)


def test_the_allow_list_is_used():
    _, every = graph()
    used = {(imp.importer, imp.target) for imp in every if imp.local}
    assert set(ALLOWED_LOCAL) <= used, f"stale entries: {sorted(set(ALLOWED_LOCAL) - used)}"


# --------------------------------------------------------------------------- the checker itself
def _edges_of(source: str, name: str = "lora_audit.probe", tmp: Path | None = None) -> list[Import]:
    assert tmp is not None
    path = tmp / "probe.py"
    path.write_text(source, encoding="utf-8")
    modules = {**own_modules(), name: path}
    return imports_of(name, path, modules)


@pytest.mark.parametrize(
    "source, target, local",
    [
        ("import lora_audit.report\n", "lora_audit.report", False),
        ("from lora_audit.rules import claimed\n", "lora_audit.rules", False),
        ("from lora_audit.model import catalogue\n", "lora_audit.model.catalogue", False),
        ("def f():\n    from lora_audit.report import plain\n", "lora_audit.report", True),
        ("from . import report\n", "lora_audit.report", False),
        ("from .cli import cache\n", "lora_audit.cli.cache", False),
    ],
)
def test_every_kind_of_import_statement_is_an_edge(tmp_path, source, target, local):
    found = _edges_of(source, tmp=tmp_path)
    assert [(i.target, i.local) for i in found] == [(target, local)]


def test_type_checking_imports_are_not_edges(tmp_path):
    source = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from lora_audit.pipeline import audit\n"
    assert [i.target for i in _edges_of(source, tmp=tmp_path)] == ["typing"]


def test_a_registry_imports_every_module_it_names(tmp_path):
    source = ('import importlib\n_MODULE_NAMES = ("la001_target_unmatched",)\n'
              'M = [importlib.import_module(f".{n}", __name__) for n in _MODULE_NAMES]\n')
    found = _edges_of(source, name="lora_audit.rules.probe", tmp=tmp_path)
    assert [i.target for i in found] == ["importlib", "lora_audit.rules.la001_target_unmatched"]


def test_a_cycle_is_found():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
