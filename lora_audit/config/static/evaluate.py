"""Read the values a Python program passes to calls, the way a reader would, without running it.

The statements of a :class:`~lora_audit.config.static.sources.Program` are walked in order, one
scope per function (its parameters are unknown), and every call met is recorded as a :class:`Call`
with its arguments resolved as far as reading allows:

- literals, containers, ``+`` of lists, tuples and strings, f-strings of constants, unary minus;
- names bound earlier in the same scope (the last assignment before the use wins), then the module's;
- ``dict(...)``, ``list(...)``/``tuple(...)``/``set(...)`` of a resolved value, ``**`` of a resolved dict;
- ``x.append(...)`` / ``x.extend(...)`` / ``x += [...]`` on a resolved list, subscripts of resolved values;
- attribute chains on imported names (``TaskType.CAUSAL_LM``, ``torch.bfloat16``) as :class:`Dotted`
  names, with module aliases followed (``import peft as p``, ``from peft import LoraConfig as LC``).

Anything else is :class:`Unresolved`, with the expression's text, its place and why: a function's
parameter (``args.rank``), the result of a call nobody can evaluate without running it
(``find_all_linear_names(model)``), a name bound in a loop or under a condition reading cannot decide.
Nothing is ever guessed, imported, executed or evaluated. Deep expressions and huge programs are
bounded (:data:`MAX_DEPTH`, :data:`MAX_CALLS`): past them, the value is unresolved, never an error
of the interpreter.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from lora_audit.config.static.sources import Chunk, Program

#: Expressions nested deeper than this are not followed (a LoRA config nests two or three levels).
MAX_DEPTH = 64
#: Calls recorded per program: far beyond any training script (a few hundred).
MAX_CALLS = 20_000
#: Items of one resolved container: beyond any list of module names.
MAX_ITEMS = 100_000
#: Characters of an expression shown in a report.
SHOWN = 120


@dataclass(frozen=True)
class Place:
    """Where a piece of code was written: the file line (None when not known) and, in a notebook, the cell."""

    line: int | None
    cell: str | None = None  #: ``cell 7, line 3``

    def __str__(self) -> str:
        return self.cell or (f"line {self.line}" if self.line is not None else "an unknown line")


@dataclass(frozen=True)
class Dotted:
    """An imported name or an attribute chain on one: ``peft.LoraConfig``, ``peft.TaskType.CAUSAL_LM``."""

    name: str
    imported: bool = True  #: False: a bare name never imported or bound (``from x import *``, or a notebook's)


@dataclass(frozen=True)
class Unresolved:
    """A value reading cannot know: the expression, where it is, and why."""

    expression: str
    place: Place
    why: str
    #: what it is when the condition it was assigned under holds (for following data flow, never for values)
    maybe: Value | None = None


@dataclass(frozen=True)
class LocalDefinition:
    """A class or function defined in the program itself."""

    kind: str  #: class | function
    name: str
    place: Place
    bases: tuple[Any, ...] = ()  #: a class's bases, resolved (Dotted for imported ones)


@dataclass(frozen=True)
class Item:
    """``a, b = call(...)``: the index-th item of a value that is not a plain tuple (a call's result)."""

    of: Value
    index: int


@dataclass(frozen=True)
class Attribute:
    """``pipe.unet``: an attribute of a value that is not an imported name."""

    of: Value
    name: str
    written: str | None = None  #: the expression as written (``args.rank``)


@dataclass
class Call:
    """A call the program makes, with its arguments as read."""

    name: str | None  #: the callee's dotted name (``peft.LoraConfig``, ``transformers.AutoModel.from_pretrained``)
    receiver: Value | None  #: for ``obj.method(...)`` on a value that is not an imported name: that value
    method: str | None  #: the method's name, with ``receiver``
    args: list[Value]
    kwargs: dict[str, Value]
    #: ``*x`` / ``**x`` reading could not expand: then the call's arguments are not all known
    unexpanded: list[Unresolved]
    place: Place
    text: str  #: the call as written (shortened)
    #: the call is inside a loop (its arguments may change per pass): the loop's place
    loop: Place | None = None
    #: the call is under a condition reading cannot decide: the condition as written
    condition: str | None = None
    scope: str = "<module>"  #: the function it is in
    #: what the call's result was assigned to (``model``, ``peft_config``), when a plain name
    assigned_to: str | None = None
    #: where each keyword argument is written (``r=...``; for ``**extra``, where that is written)
    keyword_places: dict[str, Place] = field(default_factory=dict)

    @property
    def short(self) -> str:
        """The callee's last name: ``LoraConfig``, ``from_pretrained``, ``add_adapter``."""
        return self.method or (self.name or "?").rsplit(".", 1)[-1]

    @property
    def owner(self) -> str | None:
        """For ``Cls.method``: the dotted name of ``Cls`` (``transformers.AutoModelForCausalLM``)."""
        if self.method is not None or self.name is None or "." not in self.name:
            return None
        return self.name.rsplit(".", 1)[0]


@dataclass(frozen=True)
class Value:
    """A value as read: plain Python data, or one of this module's records, and where it was written.

    ``items`` gives the place of each item of a list/tuple, ``keys`` the place of each key of a dict
    (for a finding that points at one target name).
    """

    value: Any
    place: Place
    items: tuple[Place, ...] | None = None
    keys: dict[str, Place] | None = None

    @property
    def known(self) -> bool:
        """True when the value is plain data, all the way down."""
        return _plain(self.value)


def _plain(value: Any) -> bool:
    if isinstance(value, (str, int, float, bool, type(None))):
        return True
    if isinstance(value, (list, tuple, set, frozenset)):
        return all(_plain(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, (str, int)) and _plain(v) for k, v in value.items())
    return False


@dataclass
class Evaluation:
    """What reading a program found: every call in order, and the names each scope bound."""

    program: Program
    calls: list[Call] = field(default_factory=list)
    #: the module scope's names at the end
    names: dict[str, Value] = field(default_factory=dict)
    #: classes and functions defined in the program
    definitions: list[LocalDefinition] = field(default_factory=list)
    truncated: bool = False  #: more than MAX_CALLS calls: the rest were not read


def evaluate(program: Program) -> Evaluation:
    """Walk the program's statements in order and record its calls."""
    result = Evaluation(program)
    walker = _Walker(program, result)
    module: dict[str, Value] = {"__name__": Value("__main__", Place(None))}
    for chunk in program.chunks:
        walker.chunk = chunk
        walker.block(chunk.tree.body, _Scope("<module>", module, None))
    result.names = module
    return result


@dataclass
class _Scope:
    name: str
    names: dict[str, Value]  #: an _Overlay in a body that may not run
    parent: _Scope | None
    loop: Place | None = None
    condition: str | None = None


class _Walker:
    def __init__(self, program: Program, result: Evaluation) -> None:
        self.program = program
        self.result = result
        self.chunk: Chunk | None = None

    # ----------------------------------------------------------------- places
    def place(self, node: ast.AST) -> Place:
        assert self.chunk is not None
        line, cell = self.program.where(self.chunk, getattr(node, "lineno", 1))
        return Place(line, cell)

    def unresolved(self, node: ast.AST, why: str, maybe: Value | None = None) -> Value:
        text = _text(node)
        return Value(Unresolved(text, self.place(node), why, maybe), self.place(node))

    # ----------------------------------------------------------------- statements
    def block(self, body: list[ast.stmt], scope: _Scope) -> None:
        for statement in body:
            if self.result.truncated:
                return
            self.statement(statement, scope)

    def statement(self, node: ast.stmt, scope: _Scope) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    scope.names[alias.asname] = Value(Dotted(alias.name), self.place(node))
                else:
                    root = alias.name.split(".", 1)[0]
                    scope.names[root] = Value(Dotted(root), self.place(node))
        elif isinstance(node, ast.ImportFrom):
            base = "." * node.level + (node.module or "")
            for alias in node.names:
                if alias.name == "*":
                    continue
                scope.names[alias.asname or alias.name] = Value(Dotted(f"{base}.{alias.name}".lstrip(".")),
                                                                self.place(node))
        elif isinstance(node, ast.Assign):
            value = self.expr(node.value, scope)
            for target in node.targets:
                self.bind(target, value, scope, node)
        elif isinstance(node, ast.AnnAssign):
            if node.value is not None:
                self.bind(node.target, self.expr(node.value, scope), scope, node)
        elif isinstance(node, ast.AugAssign):
            self.augment(node, scope)
        elif isinstance(node, ast.Expr):
            self.expr(node.value, scope)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            self.function(node, scope)
        elif isinstance(node, ast.ClassDef):
            bases = tuple(self.expr(b, scope).value for b in node.bases)
            definition = LocalDefinition("class", node.name, self.place(node), bases)
            self.result.definitions.append(definition)
            scope.names[node.name] = Value(definition, self.place(node))
            self.block(node.body, _Scope(f"class {node.name}", {}, scope, scope.loop, scope.condition))
        elif isinstance(node, ast.If):
            self.branch(node, scope)
        elif isinstance(node, (ast.For, ast.AsyncFor, ast.While)):
            self.loop(node, scope)
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                value = self.expr(item.context_expr, scope)
                if item.optional_vars is not None:
                    self.bind(item.optional_vars, Value(Attribute(value, "__enter__"), value.place), scope, node)
            self.block(node.body, scope)
        elif isinstance(node, (ast.Try, ast.TryStar)):
            self.block(node.body, scope)
            for handler in node.handlers:
                self.conditional(handler.body, scope, f"except at {self.place(handler)}")
            self.block(node.orelse, scope)
            self.block(node.finalbody, scope)
        elif isinstance(node, ast.Return) and node.value is not None:
            self.expr(node.value, scope)
        elif isinstance(node, ast.Delete):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    scope.names.pop(target.id, None)
        elif isinstance(node, ast.Match):
            self.expr(node.subject, scope)
            for case in node.cases:
                self.conditional(case.body, scope, f"case at {self.place(case)}")
        elif isinstance(node, (ast.Global, ast.Nonlocal, ast.Pass, ast.Break, ast.Continue, ast.Raise, ast.Assert)):
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.expr):
                    self.expr(child, scope)

    def function(self, node: ast.FunctionDef | ast.AsyncFunctionDef, scope: _Scope) -> None:
        definition = LocalDefinition("function", node.name, self.place(node))
        self.result.definitions.append(definition)
        scope.names[node.name] = Value(definition, self.place(node))
        inner = _Scope(node.name, {}, scope, None, None)
        arguments = node.args
        for arg in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs, arguments.vararg,
                    arguments.kwarg]:
            if arg is not None:
                inner.names[arg.arg] = Value(
                    Unresolved(arg.arg, self.place(arg), f"a parameter of {node.name}(), known only when it runs"),
                    self.place(arg))
        self.block(node.body, inner)

    def branch(self, node: ast.If, scope: _Scope) -> None:
        test = self.expr(node.test, scope)
        if test.known:
            self.block(node.body if test.value else node.orelse, scope)
            return
        condition = f"if {_text(node.test)} ({self.place(node)})"
        self.conditional(node.body, scope, condition)
        self.conditional(node.orelse, scope, f"else of {condition}")

    def conditional(self, body: list[ast.stmt], scope: _Scope, condition: str) -> None:
        """Walk a body that may or may not run: names it binds become unresolved (their value kept as ``maybe``)."""
        overlay = _Overlay(scope.names)
        inner = _Scope(scope.name, overlay, scope.parent, scope.loop, condition)
        self.block(body, inner)
        _unresolve_changed(scope, overlay, f"assigned under {condition}: reading cannot tell whether it runs")

    def loop(self, node: ast.For | ast.AsyncFor | ast.While, scope: _Scope) -> None:
        where = self.place(node)
        if isinstance(node, (ast.For, ast.AsyncFor)):
            self.expr(node.iter, scope)
        else:
            self.expr(node.test, scope)
        overlay = _Overlay(scope.names)
        inner = _Scope(scope.name, overlay, scope.parent, where, scope.condition)
        if isinstance(node, (ast.For, ast.AsyncFor)):
            for name in _names(node.target):
                inner.names[name] = Value(Unresolved(name, where, f"the loop variable of the loop at {where}"),
                                          where)
        self.block(node.body, inner)
        self.block(node.orelse, inner)
        _unresolve_changed(scope, overlay, f"rebound in the loop at {where}: it changes on every pass")

    def bind(self, target: ast.expr, value: Value, scope: _Scope, statement: ast.stmt) -> None:
        if isinstance(target, ast.Name):
            scope.names[target.id] = value
            if isinstance(value.value, Call) and value.value.assigned_to is None:
                value.value.assigned_to = target.id
        elif isinstance(target, (ast.Tuple, ast.List)):
            plain = value.value if isinstance(value.value, (tuple, list)) else None
            for index, element in enumerate(target.elts):
                if isinstance(element, ast.Starred):
                    for name in _names(element):
                        scope.names[name] = self.unresolved(element, "a starred unpacking")
                    continue
                if plain is not None and index < len(plain) and len(plain) == len(target.elts):
                    item_place = value.items[index] if value.items and index < len(value.items) else value.place
                    self.bind(element, Value(plain[index], item_place), scope, statement)
                else:
                    self.bind(element, Value(Item(value, index), value.place), scope, statement)
        elif isinstance(target, ast.Subscript):
            self.mutate(target.value, scope, f"its item set at {self.place(statement)}")
        elif isinstance(target, ast.Attribute):
            return  # obj.attr = ...: attributes of objects are not followed

    def augment(self, node: ast.AugAssign, scope: _Scope) -> None:
        if not isinstance(node.target, ast.Name):
            return
        current = self.name(node.target.id, node.target, scope)
        added = self.expr(node.value, scope)
        if isinstance(node.op, ast.Add):
            combined = self.add(node, current, added)
        else:
            combined = self.unresolved(node, "changed by an operator reading does not follow")
        scope.names[node.target.id] = combined

    def mutate(self, target: ast.expr, scope: _Scope, how: str) -> None:
        if isinstance(target, ast.Name):
            old = self.name(target.id, target, scope)
            scope.names[target.id] = Value(Unresolved(target.id, old.place, f"changed in place ({how})"), old.place)

    # ----------------------------------------------------------------- expressions
    def expr(self, node: ast.expr, scope: _Scope, depth: int = 0) -> Value:
        if depth > MAX_DEPTH:
            return self.unresolved(node, "nested too deeply to read")
        place = self.place(node)
        if isinstance(node, ast.Constant):
            return Value(node.value, place)
        if isinstance(node, ast.Name):
            return self.name(node.id, node, scope)
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            return self.sequence(node, scope, depth)
        if isinstance(node, ast.Dict):
            return self.mapping(node, scope, depth)
        if isinstance(node, ast.Attribute):
            base = self.expr(node.value, scope, depth + 1)
            if isinstance(base.value, Dotted):
                return Value(Dotted(f"{base.value.name}.{node.attr}", base.value.imported), place)
            return Value(Attribute(base, node.attr, _text(node)), place)
        if isinstance(node, ast.Call):
            return self.call(node, scope, depth)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            return self.add(node, self.expr(node.left, scope, depth + 1), self.expr(node.right, scope, depth + 1))
        if isinstance(node, ast.UnaryOp):
            operand = self.expr(node.operand, scope, depth + 1)
            if isinstance(operand.value, (int, float)) and not isinstance(operand.value, bool):
                if isinstance(node.op, ast.USub):
                    return Value(-operand.value, place)
                if isinstance(node.op, ast.UAdd):
                    return Value(+operand.value, place)
            if isinstance(node.op, ast.Not) and operand.known:
                return Value(not operand.value, place)
            return self.unresolved(node, "an operator reading does not follow")
        if isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], (ast.Eq, ast.NotEq)):
            left = self.expr(node.left, scope, depth + 1)
            right = self.expr(node.comparators[0], scope, depth + 1)
            if left.known and right.known and isinstance(left.value, str) and isinstance(right.value, str):
                equal = left.value == right.value
                return Value(equal if isinstance(node.ops[0], ast.Eq) else not equal, place)
            return self.unresolved(node, "a comparison known only when the script runs")
        if isinstance(node, ast.JoinedStr):
            parts: list[str] = []
            for piece in node.values:
                if isinstance(piece, ast.Constant) and isinstance(piece.value, str):
                    parts.append(piece.value)
                    continue
                if isinstance(piece, ast.FormattedValue) and piece.format_spec is None and piece.conversion == -1:
                    inner = self.expr(piece.value, scope, depth + 1)
                    if isinstance(inner.value, (str, int)) and not isinstance(inner.value, bool):
                        parts.append(str(inner.value))
                        continue
                return self.unresolved(node, "an f-string with a part known only when the script runs")
            return Value("".join(parts), place)
        if isinstance(node, ast.Subscript):
            return self.subscript(node, scope, depth)
        if isinstance(node, ast.IfExp):
            test = self.expr(node.test, scope, depth + 1)
            if test.known:
                return self.expr(node.body if test.value else node.orelse, scope, depth + 1)
            self.expr(node.body, scope, depth + 1)
            self.expr(node.orelse, scope, depth + 1)
            return self.unresolved(node, "a conditional expression known only when the script runs")
        if isinstance(node, ast.NamedExpr):
            value = self.expr(node.value, scope, depth + 1)
            scope.names[node.target.id] = value
            return value
        for child in ast.iter_child_nodes(node):  # calls inside a lambda, a comprehension...: still recorded
            if isinstance(child, ast.expr) and not isinstance(node, (ast.Lambda, ast.ListComp, ast.SetComp,
                                                                     ast.DictComp, ast.GeneratorExp)):
                self.expr(child, scope, depth + 1)
        what = "a comprehension" if isinstance(node, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)) \
            else "an expression"
        return self.unresolved(node, f"{what} known only when the script runs")

    def name(self, name: str, node: ast.AST, scope: _Scope) -> Value:
        current: _Scope | None = scope
        while current is not None:
            if name in current.names:
                return current.names[name]
            current = current.parent
        if name in ("True", "False", "None"):
            return Value({"True": True, "False": False, "None": None}[name], self.place(node))
        return Value(Dotted(name, imported=False), self.place(node))

    def sequence(self, node: ast.List | ast.Tuple | ast.Set, scope: _Scope, depth: int) -> Value:
        values: list[Any] = []
        places: list[Place] = []
        for element in node.elts:
            if isinstance(element, ast.Starred):
                inner = self.expr(element.value, scope, depth + 1)
                if isinstance(inner.value, (list, tuple)) and inner.known:
                    values += list(inner.value)
                    places += list(inner.items or (inner.place,) * len(inner.value))
                    continue
                return self.unresolved(node, "a starred item known only when the script runs")
            item = self.expr(element, scope, depth + 1)
            values.append(item.value)
            places.append(item.place)
            if len(values) > MAX_ITEMS:
                return self.unresolved(node, "too many items to read")
        kind: Any = list if isinstance(node, ast.List) else tuple if isinstance(node, ast.Tuple) else set
        if kind is set and not all(isinstance(v, (str, int, float, bool, type(None))) for v in values):
            return self.unresolved(node, "a set of values known only when the script runs")
        return Value(kind(values), self.place(node), tuple(places) if kind is not set else None)

    def mapping(self, node: ast.Dict, scope: _Scope, depth: int) -> Value:
        out: dict[Any, Any] = {}
        keys: dict[str, Place] = {}
        for key_node, value_node in zip(node.keys, node.values, strict=True):
            value = self.expr(value_node, scope, depth + 1)
            if key_node is None:  # {**other}
                if isinstance(value.value, dict):
                    out.update(value.value)
                    keys.update(value.keys or {})
                    continue
                return self.unresolved(node, "a ** item known only when the script runs")
            key = self.expr(key_node, scope, depth + 1)
            if not isinstance(key.value, (str, int)) or isinstance(key.value, bool):
                return self.unresolved(node, "a key known only when the script runs")
            out[key.value] = value.value
            if isinstance(key.value, str):
                keys[key.value] = value.place
        return Value(out, self.place(node), keys=keys)

    def add(self, node: ast.AST, left: Value, right: Value) -> Value:
        a, b = left.value, right.value
        for side in (left, right):
            if isinstance(side.value, Unresolved) and side.value.why == "nested too deeply to read":
                return side  # the reason that matters
        same = (isinstance(a, list) and isinstance(b, list)) or (isinstance(a, tuple) and isinstance(b, tuple))
        if same and len(a) + len(b) <= MAX_ITEMS:
            items = (left.items or (left.place,) * len(a)) + (right.items or (right.place,) * len(b))
            return Value(a + b, left.place, tuple(items))
        if isinstance(a, str) and isinstance(b, str) and len(a) + len(b) <= 1_000_000:
            return Value(a + b, left.place)
        if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool) \
                and not isinstance(b, bool) and abs(a) < 1 << 62 and abs(b) < 1 << 62:
            return Value(a + b, left.place)
        return self.unresolved(node, "a sum known only when the script runs")

    def subscript(self, node: ast.Subscript, scope: _Scope, depth: int) -> Value:
        base = self.expr(node.value, scope, depth + 1)
        index = self.expr(node.slice, scope, depth + 1)
        container = base.value
        try:
            if isinstance(container, dict) and isinstance(index.value, (str, int)) and index.value in container:
                place = (base.keys or {}).get(str(index.value), base.place)
                return Value(container[index.value], place)
            if isinstance(container, (list, tuple)) and isinstance(index.value, int) \
                    and not isinstance(index.value, bool) and -len(container) <= index.value < len(container):
                places = base.items or ()
                place = places[index.value] if places else base.place
                return Value(container[index.value], place)
        except TypeError:
            pass
        if isinstance(container, Dotted) or not base.known:
            return self.unresolved(node, "an item of a value known only when the script runs")
        return self.unresolved(node, "an item reading cannot look up")

    def call(self, node: ast.Call, scope: _Scope, depth: int) -> Value:
        func = self.expr(node.func, scope, depth + 1)
        args: list[Value] = []
        kwargs: dict[str, Value] = {}
        keyword_places: dict[str, Place] = {}
        unexpanded: list[Unresolved] = []
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                value = self.expr(arg.value, scope, depth + 1)
                if isinstance(value.value, (list, tuple)):
                    args += [Value(v, p) for v, p in zip(value.value, value.items or (value.place,) * len(value.value),
                                                       strict=False)]
                else:
                    unexpanded.append(Unresolved(_text(arg), self.place(arg), "a *argument known only when it runs"))
                continue
            args.append(self.expr(arg, scope, depth + 1))
        for keyword in node.keywords:
            value = self.expr(keyword.value, scope, depth + 1)
            if keyword.arg is not None:
                kwargs[keyword.arg] = value
                keyword_places[keyword.arg] = self.place(keyword)
            elif isinstance(value.value, dict) and all(isinstance(k, str) for k in value.value):
                for key, item in value.value.items():
                    kwargs[key] = Value(item, (value.keys or {}).get(key, value.place))
                    keyword_places[key] = self.place(keyword)
            else:
                unexpanded.append(Unresolved(_text(keyword), self.place(keyword.value),
                                             "a **argument known only when the script runs"))
        place = self.place(node)
        # What plain-data builtins give, the way Python gives it.
        if isinstance(func.value, Dotted) and not func.value.imported and not unexpanded:
            built = self.builtin(func.value.name, args, kwargs, place)
            if built is not None:
                return built
        name = receiver = method = None
        if isinstance(func.value, Dotted):
            name = func.value.name
        elif isinstance(func.value, LocalDefinition):
            name = func.value.name  # a class or function of the program itself
        elif isinstance(func.value, Attribute):
            receiver, method = func.value.of, func.value.name
            if method in ("append", "extend") and isinstance(node.func, ast.Attribute) \
                    and isinstance(node.func.value, ast.Name):
                self.list_method(node.func.value.id, method, args, scope, node)
        call = Call(name=name, receiver=receiver, method=method, args=args, kwargs=kwargs, unexpanded=unexpanded,
                    place=place, text=_text(node), loop=scope.loop, condition=scope.condition, scope=scope.name,
                    keyword_places=keyword_places)
        if len(self.result.calls) >= MAX_CALLS:
            self.result.truncated = True
        else:
            self.result.calls.append(call)
        return Value(call, place)

    def builtin(self, name: str, args: list[Value], kwargs: dict[str, Value], place: Place) -> Value | None:
        if name == "dict" and not args and all(v.known for v in kwargs.values()):
            return Value({k: v.value for k, v in kwargs.items()}, place, keys={k: v.place for k, v in kwargs.items()})
        if name == "dict" and len(args) == 1 and isinstance(args[0].value, dict) and args[0].known:
            merged = {**args[0].value, **{k: v.value for k, v in kwargs.items()}}
            return Value(merged, place, keys={**(args[0].keys or {}), **{k: v.place for k, v in kwargs.items()}})
        if name in ("list", "tuple") and len(args) == 1 and not kwargs and args[0].known \
                and isinstance(args[0].value, (list, tuple, set)):
            values = sorted(args[0].value, key=repr) if isinstance(args[0].value, set) else args[0].value
            kind: Any = list if name == "list" else tuple
            return Value(kind(values), place, args[0].items)
        if name == "set" and len(args) == 1 and not kwargs and args[0].known \
                and isinstance(args[0].value, (list, tuple, set)):
            return Value(set(args[0].value), place)
        return None

    def list_method(self, name: str, method: str, args: list[Value], scope: _Scope, node: ast.AST) -> None:
        current = self.name(name, node, scope)
        if not isinstance(current.value, list) or len(args) != 1:
            return
        places: tuple[Place, ...]
        if method == "append":
            added = [args[0].value]
            places = (args[0].place,)
        elif isinstance(args[0].value, (list, tuple)):
            added = list(args[0].value)
            places = args[0].items or (args[0].place,) * len(added)
        else:
            self.mutate(ast.Name(id=name), scope, f"extended at {self.place(node)}")
            return
        items = (current.items or (current.place,) * len(current.value)) + tuple(places)
        target_scope: _Scope | None = scope
        while target_scope is not None and name not in target_scope.names:
            target_scope = target_scope.parent
        (target_scope or scope).names[name] = Value(current.value + added, current.place, items)


class _Overlay(dict[str, Value]):
    """A scope's names seen from a body that may not run: reads fall through, writes are collected."""

    def __init__(self, base: dict[str, Value]) -> None:
        super().__init__()
        self._base = base

    def __contains__(self, key: object) -> bool:
        return dict.__contains__(self, key) or key in self._base

    def __getitem__(self, key: str) -> Value:
        if dict.__contains__(self, key):
            return dict.__getitem__(self, key)
        return self._base[key]

    def changed(self) -> dict[str, Value]:
        return dict(self.items())


def _unresolve_changed(scope: _Scope, overlay: _Overlay, why: str) -> None:
    """The names a body that may not run (or runs many times) bound: unresolved in ``scope``, kept as ``maybe``."""
    for name, value in overlay.changed().items():
        if isinstance(value.value, Unresolved) and value.value.maybe is not None:
            value = value.value.maybe
        scope.names[name] = Value(Unresolved(name, value.place, why, value), value.place)


def _names(target: ast.AST) -> Iterator[str]:
    for node in ast.walk(target):
        if isinstance(node, ast.Name):
            yield node.id


def _text(node: ast.AST) -> str:
    """The expression as written, shortened; a large one is not unparsed at all (it may be huge or deep)."""
    for count, _ in enumerate(ast.walk(node)):
        if count > 400:
            return "<a large expression>"
    try:
        text = ast.unparse(node)
    except (RecursionError, ValueError, AttributeError):
        return "<an expression>"
    text = " ".join(text.split())
    return text if len(text) <= SHOWN else text[: SHOWN - 1] + "…"
