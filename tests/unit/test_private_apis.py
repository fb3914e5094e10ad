"""One door per outside library: private internals of PEFT, transformers, diffusers and huggingface_hub
are touched in ``lora_audit/integrations/`` only.

ruff's banned-api list (TID251, pyproject.toml) names the private modules and functions lora-audit
knows of. This test reads the source of every module outside ``integrations/`` for what a list of
names cannot catch:

1. an import of an underscore name (or from an underscore module) of one of those libraries;
2. an underscore attribute read off an object lora-audit does not own: anything but ``self`` / ``cls``
   and lora_audit's own (or the standard library's) modules, so ``cls._from_config`` on a class
   that came from ``getattr(transformers, name)`` counts, and so does torch's ``module._modules``;
3. ``getattr`` / ``hasattr`` / ``setattr`` / ``delattr`` with an underscore name as a string;
4. a class told by its name (``type(exc).__name__ == "OfflineModeIsEnabled"``): ask the door, by class;
5. a regex, a substring test or a prefix test on an exception's text (``str(exc)``, ``f"{exc}"``,
   ``exc.args``, ``first_line(exc)``, and names assigned from them): what an outside library's error
   means is decided in its door.

It sees within one function: text handed to another function and matched there is not followed.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "lora_audit"
DOORS = PACKAGE / "integrations"
LIBRARIES = frozenset({"peft", "transformers", "diffusers", "huggingface_hub"})
REGEX_FUNCTIONS = frozenset({"search", "match", "fullmatch", "findall", "finditer", "sub", "subn", "split"})
REGEX_METHODS = REGEX_FUNCTIONS - {"split"}  # str.split is not a regex
TEXT_METHODS = frozenset({"startswith", "endswith", "find", "rfind", "index", "rindex", "count", "__contains__"})
#: Calls that turn an exception into its text.
TEXT_OF = frozenset({"str", "repr", "format", "first_line", "peft_text"})

#: (module, a piece of the offending line) -> why it stays. Only for libraries without a door.
ALLOWED: dict[tuple[str, str], str] = {
    ("lora_audit.config.loading", '"nesting depth" in str(getattr(exc, "problem", ""))'):
        "pyyaml (not one of the four libraries): libyaml's nesting limit has no exception type of its own",
    ("lora_audit.model.libraries.timm", '"torchvision" in str(exc)'):
        "Python's own ImportError text when timm's torchvision import fails (exc.name is checked first)",
}


@dataclass(frozen=True)
class Violation:
    module: str
    line: int
    rule: str
    text: str

    def __str__(self) -> str:
        return f"{self.module}:{self.line}: {self.rule}: {self.text}"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _bindings(tree: ast.Module, package: str) -> dict[str, str]:
    """Every name an import statement binds -> the module (or module.member) it names."""
    bound: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    bound[alias.asname] = alias.name
                else:
                    top = alias.name.split(".")[0]
                    bound[top] = top
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            for alias in node.names:
                bound[alias.asname or alias.name] = f"{source}.{alias.name}"
    return bound


def _root(node: ast.expr) -> ast.expr:
    while True:
        if isinstance(node, (ast.Attribute, ast.Subscript)):
            node = node.value
        elif isinstance(node, ast.Call):
            node = node.func
        else:
            return node


def _class_name(node: ast.expr) -> bool:
    """``type(x).__name__`` or ``x.__class__.__name__``."""
    if not (isinstance(node, ast.Attribute) and node.attr in ("__name__", "__qualname__")):
        return False
    value = node.value
    return (isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "type") or (
        isinstance(value, ast.Attribute) and value.attr == "__class__"
    )


def _has_string(node: ast.expr) -> bool:
    return any(isinstance(n, ast.Constant) and isinstance(n.value, str) for n in ast.walk(node))


class _Checker(ast.NodeVisitor):
    def __init__(self, module: str, path: Path, tree: ast.Module) -> None:
        self.module = module
        self.lines = path.read_text(encoding="utf-8").splitlines()
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        self.bound = _bindings(tree, package)
        self.found: list[Violation] = []
        self.owners: list[str] = []  # self / cls of the enclosing methods
        self.in_class = False
        self.exceptions: list[set[str]] = [set()]  # names that hold an exception, per function
        self.texts: list[set[str]] = [set()]  # names that hold an exception's text, per function

    def flag(self, node: ast.AST, rule: str) -> None:
        line = self.lines[node.lineno - 1].strip()
        if any(module == self.module and piece in line for module, piece in ALLOWED):
            return
        self.found.append(Violation(self.module, node.lineno, rule, line))

    # ----- scopes
    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        args = [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]
        method, self.in_class = self.in_class, False
        positional = [*node.args.posonlyargs, *node.args.args]
        self.owners.append(positional[0].arg if method and positional else "")
        exceptions = {a.arg for a in args if a.annotation is not None and _names_an_exception(a.annotation)}
        self.exceptions.append(exceptions)
        self.texts.append(set())
        # Two passes: a name assigned exception text further down still counts where it is matched.
        for statement in ast.walk(node):
            if isinstance(statement, ast.ExceptHandler) and statement.name:
                self.exceptions[-1].add(statement.name)
        for _ in range(2):
            for statement in ast.walk(node):
                if isinstance(statement, ast.Assign) and self.is_text(statement.value):
                    self.texts[-1].update(t.id for t in statement.targets if isinstance(t, ast.Name))
        self.generic_visit(node)
        self.owners.pop()
        self.exceptions.pop()
        self.texts.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for child in node.body:
            self.in_class = isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            self.visit(child)
        self.in_class = False

    # ----- 1. imports
    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            parts = alias.name.split(".")
            if parts[0] in LIBRARIES and any(_private(p) for p in parts):
                self.flag(node, "imports a private module")

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        parts = (node.module or "").split(".")
        if node.level == 0 and parts[0] in LIBRARIES and (
            any(_private(p) for p in parts) or any(_private(a.name) for a in node.names)
        ):
            self.flag(node, "imports a private name")

    # ----- 2. underscore attributes
    def visit_Attribute(self, node: ast.Attribute) -> None:
        if _private(node.attr) and not self.own(node.value):
            self.flag(node, f"reads the private attribute {node.attr}")
        self.generic_visit(node)

    def own(self, value: ast.expr) -> bool:
        root = _root(value)
        if not isinstance(root, ast.Name):
            return False
        if root.id in self.bound:
            return self.bound[root.id].split(".")[0] not in LIBRARIES
        return root.id in self.owners  # the instance or class of a method defined here

    # ----- 3. getattr by string, 5. regexes and substring tests
    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Name) and func.id in ("getattr", "hasattr", "setattr", "delattr") and len(
                node.args) >= 2:
            name = node.args[1]
            if isinstance(name, ast.Constant) and isinstance(name.value, str) and _private(name.value):
                self.flag(node, f"{func.id} of the private attribute {name.value}")
        if isinstance(func, ast.Attribute):
            regex = (isinstance(func.value, ast.Name) and func.value.id == "re" and func.attr in REGEX_FUNCTIONS) or (
                func.attr in REGEX_METHODS)
            if regex and any(self.is_text(a) for a in node.args):
                self.flag(node, "a regex over an exception's text")
            if func.attr in TEXT_METHODS and self.is_text(func.value):
                self.flag(node, f"{func.attr} on an exception's text")
        self.generic_visit(node)

    # ----- 4. class names, 5. substring tests
    def visit_Compare(self, node: ast.Compare) -> None:
        operands = [node.left, *node.comparators]
        if any(_class_name(o) for o in operands) and any(_has_string(o) for o in operands if not _class_name(o)):
            self.flag(node, "tells a class by its name")
        for op, right in zip(node.ops, node.comparators, strict=True):
            if isinstance(op, (ast.In, ast.NotIn)) and self.is_text(right):
                self.flag(node, "a substring test on an exception's text")
        self.generic_visit(node)

    def is_exception(self, node: ast.expr) -> bool:
        return isinstance(node, ast.Name) and any(node.id in names for names in self.exceptions)

    def is_text(self, node: ast.expr) -> bool:
        """Whether ``node`` is (or is built from) an exception's text."""
        if isinstance(node, ast.Name):
            return any(node.id in names for names in self.texts)
        if isinstance(node, ast.Call):
            if isinstance(node.func, ast.Name) and node.func.id in TEXT_OF:
                return any(self.is_exception(a) or self.is_text(a) for a in node.args)
            if isinstance(node.func, ast.Attribute) and self.is_text(node.func.value):
                return True  # str(exc).lower(), .strip(), .splitlines()...
            return any(self.is_text(a) for a in node.args)  # " ".join(str(exc).split())
        if isinstance(node, ast.JoinedStr):
            return any(isinstance(v, ast.FormattedValue) and (self.is_exception(v.value) or self.is_text(v.value))
                       for v in node.values)
        if isinstance(node, ast.Attribute):
            return node.attr == "args" and self.is_exception(node.value)
        if isinstance(node, ast.Subscript):
            return self.is_text(node.value)
        if isinstance(node, ast.BinOp):
            return self.is_text(node.left) or self.is_text(node.right)
        return False


def _names_an_exception(annotation: ast.expr) -> bool:
    return any(isinstance(n, ast.Name) and (n.id.endswith(("Error", "Exception")) or n.id == "BaseException")
               for n in ast.walk(annotation))


def violations(path: Path, module: str | None = None) -> list[Violation]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    checker = _Checker(module or module_name(path), path, tree)
    checker.visit(tree)
    return checker.found


def outside_the_doors() -> list[Path]:
    return [p for p in sorted(PACKAGE.rglob("*.py")) if DOORS not in p.parents]


def test_no_private_use_of_an_outside_library_outside_its_door():
    found = [v for path in outside_the_doors() for v in violations(path)]
    assert not found, "move these behind lora_audit/integrations/ (one module per library):\n" + "\n".join(
        map(str, found))


def test_the_allow_list_is_used():
    sources = {module_name(p): p.read_text(encoding="utf-8") for p in outside_the_doors()}
    stale = [key for key in ALLOWED if key[1] not in sources.get(key[0], "")]
    assert not stale, f"stale entries: {stale}"


def test_each_library_has_its_door():
    doors = {p.stem for p in DOORS.glob("*.py")}
    assert doors >= LIBRARIES


# --------------------------------------------------------------------------- the checker itself
@pytest.mark.parametrize(
    "source, rule",
    [
        ("from peft.tuners.tuners_utils import _ExcludedModule\n", "imports a private name"),
        ("import transformers.models._private\n", "imports a private module"),
        ("import transformers\ndef f(name):\n    return getattr(transformers, name)._model_mapping\n",
         "private attribute _model_mapping"),
        ("def f(config, pick):\n    cls = pick(config)\n    return cls._from_config(config)\n",
         "private attribute _from_config"),
        ("def f(self):\n    return self._modules\n", "private attribute _modules"),
        ("def f(parent):\n    return parent._modules\n", "private attribute _modules"),
        ("def f(model):\n    return getattr(model, '_keep_in_fp32_modules', None)\n", "getattr of the private"),
        ("def f(exc):\n    return type(exc).__name__ == 'OfflineModeIsEnabled'\n", "tells a class by its name"),
        ("def f(exc):\n    return 'LocalEntryNotFound' not in type(exc).__name__\n", "tells a class by its name"),
        ("def f(exc):\n    return exc.__class__.__name__ in ('A', 'B')\n", "tells a class by its name"),
        ("import re\ndef f():\n    try:\n        pass\n    except ValueError as exc:\n"
         "        return re.search('Target module', str(exc))\n", "a regex over an exception's text"),
        ("import re\nP = re.compile('x')\ndef f(error: BaseException):\n    message = ' '.join(str(error).split())\n"
         "    return P.search(message)\n", "a regex over an exception's text"),
        ("def f():\n    try:\n        pass\n    except Exception as exc:\n        return 'meta' in str(exc)\n",
         "a substring test on an exception's text"),
        ("def f():\n    try:\n        pass\n    except Exception as exc:\n        return f'{exc}'.startswith('x')\n",
         "startswith on an exception's text"),
    ],
)
def test_the_checker_finds(tmp_path, source, rule):
    path = tmp_path / "probe.py"
    path.write_text(source, encoding="utf-8")
    found = violations(path, "lora_audit.probe")
    assert any(rule in v.rule for v in found), found


@pytest.mark.parametrize(
    "source",
    [
        "import os\ndef f():\n    os._exit(0)\n",
        "from lora_audit.render import _common as c\ndef f(x):\n    return c._num(x)\n",
        "class A:\n    def f(self):\n        return self._x\n",
        "class A:\n    @classmethod\n    def f(cls):\n        def g():\n            return cls._x\n        return g\n",
        "from huggingface_hub.errors import EntryNotFoundError\n",
        "def f(exc):\n    return f'{type(exc).__name__}: {exc}'\n",
        "def f(exc):\n    return isinstance(exc, OSError) and getattr(exc, 'errno', None) == 13\n",
        "import re\ndef f(name):\n    return re.match('x', name)\n",
    ],
)
def test_the_checker_leaves_alone(tmp_path, source):
    path = tmp_path / "probe.py"
    path.write_text(source, encoding="utf-8")
    assert violations(path, "lora_audit.probe") == []
