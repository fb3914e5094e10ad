"""The Python code in a training script, a Jupyter notebook or a Markdown tutorial, as ``ast`` trees.

Nothing here runs, imports or evaluates the code: the text is parsed with :func:`ast.parse` and no
more. A notebook's code cells are taken in order (nbformat 4: ``cells[i].cell_type == "code"``,
``source`` a string or a list of lines); IPython's line magics and shell escapes (``%pip``,
``!pip install``) are blanked, keeping the line numbers, and a cell magic other than ``%%capture`` /
``%%time`` (``%%bash``, ``%%writefile``) makes the cell not Python. A Markdown file's fenced blocks
tagged ``python`` or ``py`` (```` ```python ````, ``~~~python``) are taken in order, as one program.

Each piece of code is a :class:`Chunk`, parsed on its own (a notebook cell that is not valid Python
is skipped and said so, as Jupyter would fail that cell alone); a node's place in the file is
:meth:`Program.where`: the file line, and for a notebook the cell and the line within it.
"""

from __future__ import annotations

import ast
import json
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from lora_audit.errors import AuditError

#: Suffixes read as code. Anything else that is not JSON/YAML is tried as Python only when it parses.
PYTHON_SUFFIXES = (".py",)
NOTEBOOK_SUFFIXES = (".ipynb",)
MARKDOWN_SUFFIXES = (".md", ".markdown")
SCRIPT_SUFFIXES = PYTHON_SUFFIXES + NOTEBOOK_SUFFIXES + MARKDOWN_SUFFIXES
#: Files read: a notebook carries its outputs (images, logs) besides its code.
MAX_SCRIPT_BYTES = 16 * 1024 * 1024
MAX_NOTEBOOK_BYTES = 128 * 1024 * 1024
#: Code parsed, in all: a training script is a few kB, the largest public ones about 100 kB. Python's parser
#: takes seconds and gigabytes for ten megabytes, so more than this is refused before parsing.
MAX_CODE_BYTES = 1024 * 1024
#: Cell magics whose body is still Python.
_PYTHON_CELL_MAGICS = ("%%capture", "%%time", "%%timeit")
#: A shell command IPython runs without ``!`` (automagic): ``pip install x``, never ``pip = 3``.
_SHELL = re.compile(r"^(pip|pip3|conda|apt-get|apt|git|wget|huggingface-cli)\s+[\w-]")
_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`\s]*)[^`]*$")


@dataclass(frozen=True)
class Chunk:
    """One piece of code: a whole ``.py`` file, a notebook cell, or a Markdown fence."""

    tree: ast.Module
    #: the file line of the chunk's first line (0 when not known: a notebook cell not found in the text)
    first_line: int
    cell: int | None = None  #: a notebook's cell number (1-based, every cell counted as Jupyter numbers them)
    lines: int = 0  #: how many lines the chunk has


@dataclass
class Program:
    """The code of one file, in order, and where each piece came from."""

    path: Path
    kind: str  #: python | notebook | markdown
    chunks: list[Chunk]
    #: what could not be read, in words (a cell that is not Python): shown in the report
    skipped: list[str] = field(default_factory=list)

    def where(self, chunk: Chunk, node_line: int) -> tuple[int | None, str | None]:
        """``(file line, cell label)`` of a node at ``node_line`` of ``chunk``: the label is ``cell 7, line 3``."""
        line = chunk.first_line + node_line - 1 if chunk.first_line else None
        label = f"cell {chunk.cell}, line {node_line}" if chunk.cell is not None else None
        return line, label

    def cell_labels(self, lines: set[int]) -> dict[int, str]:
        """For a notebook: ``cell 7, line 3`` for each of the file ``lines`` that is code of a cell."""
        out: dict[int, str] = {}
        for chunk in self.chunks:
            if chunk.cell is None or not chunk.first_line:
                continue
            for line in lines:
                if chunk.first_line <= line < chunk.first_line + chunk.lines:
                    out[line] = f"cell {chunk.cell}, line {line - chunk.first_line + 1}"
        return out


def kind_of(path: Path) -> str | None:
    """python | notebook | markdown by the suffix, else None."""
    suffix = path.suffix.lower()
    if suffix in PYTHON_SUFFIXES:
        return "python"
    if suffix in NOTEBOOK_SUFFIXES:
        return "notebook"
    if suffix in MARKDOWN_SUFFIXES:
        return "markdown"
    return None


def read_program(path: Path, kind: str, text: str) -> Program:
    """The file's code as parsed chunks; a one-line AuditError when it cannot be read as such."""
    if kind == "notebook":
        return _notebook(path, text)
    if kind == "markdown":
        program = Program(path, kind, [])
        blocks = markdown_blocks(text)
        _refuse_large(path, sum(len(code) for _, code in blocks))
        for first_line, code in blocks:
            _add_chunk(program, code, first_line, None, f"the python block at line {first_line}")
        return program
    _refuse_large(path, len(text))
    return Program(path, kind, [Chunk(parse(path, text), 1, None, text.count("\n") + 1)])


def _refuse_large(path: Path, size: int) -> None:
    if size > MAX_CODE_BYTES:
        raise AuditError(
            "lora-config-too-large",
            f"{path} holds {size / 1e6:.1f} MB of code: far more than a training script (a few kB, the largest "
            f"about 100 kB; lora-audit reads up to {MAX_CODE_BYTES // 1024} kB)",
            "pass the training script itself, or the LoRA config as a JSON/YAML file with --config",
        )


def parse(path: Path, text: str, what: str | None = None) -> ast.Module:
    """``ast.parse`` of ``text``; a syntax error, or code nested past the parser's limits, is one line."""
    where = what or str(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SyntaxWarning for "\d" in a string: not ours to report
            return ast.parse(text, filename=str(path))
    except SyntaxError as exc:
        line = f" (line {exc.lineno})" if exc.lineno else ""
        raise AuditError(
            "script-invalid",
            f"{where} is not valid Python{line}: {exc.msg}",
            "fix the code (lora-audit reads it with Python's own parser, and never runs it)",
        ) from None
    except (RecursionError, MemoryError):
        raise AuditError(
            "script-invalid",
            f"{where} nests expressions too deeply for Python's parser",
            "pass the training script itself: Python's own parser refuses this code too",
        ) from None
    except ValueError as exc:  # source code containing NUL bytes
        raise AuditError("script-invalid", f"{where} is not Python source: {exc}",
                         "pass the training script (.py), notebook (.ipynb) or Markdown tutorial (.md)") from None


def _add_chunk(program: Program, code: str, first_line: int, cell: int | None, what: str) -> None:
    try:
        tree = parse(program.path, code, what)
    except AuditError as exc:
        program.skipped.append(f"{exc.message.removeprefix(what + ' ')}: {what} skipped")
        return
    program.chunks.append(Chunk(tree, first_line, cell, code.count("\n") + 1))


def markdown_blocks(text: str) -> list[tuple[int, str]]:
    """``(first line, code)`` of each fenced block tagged python/py/python3/ipython, in order (CommonMark fences)."""
    blocks: list[tuple[int, str]] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if match is None:
            i += 1
            continue
        fence, info = match["fence"], match["info"].lower().strip("{}.")
        body: list[str] = []
        j = i + 1
        while j < len(lines):
            stripped = lines[j].strip()
            if stripped.startswith(fence[0] * len(fence)) and not stripped.strip(fence[0]):
                break
            body.append(lines[j])
            j += 1
        if info in ("python", "py", "python3", "ipython", "ipython3", "pycon"):
            blocks.append((i + 2, blank_magics("\n".join(body))))
        i = j + 1
    return blocks


def blank_magics(code: str) -> str:
    """Line magics and shell escapes (``%pip``, ``!pip install``, ``pip install`` in a notebook) as blank lines."""
    out = []
    for line in code.split("\n"):
        stripped = line.lstrip()
        if stripped.startswith(("%", "!")) or _SHELL.match(stripped):
            out.append("")
        else:
            out.append(line)
    return "\n".join(out)


def _notebook(path: Path, text: str) -> Program:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise AuditError(
            "script-invalid",
            f"{path} is not a Jupyter notebook: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})",
            "pass the .ipynb file as Jupyter saved it",
        ) from None
    except (RecursionError, ValueError):
        raise AuditError("script-invalid", f"{path} is not a Jupyter notebook: its JSON nests too deeply",
                         "pass the .ipynb file as Jupyter saved it") from None
    cells = data.get("cells") if isinstance(data, dict) else None
    if not isinstance(cells, list):
        raise AuditError(
            "script-invalid",
            f"{path} is not a Jupyter notebook (nbformat 4): it has no list of cells",
            "pass the .ipynb file as Jupyter saved it",
        )
    program = Program(path, "notebook", [])
    _refuse_large(path, sum(_code_size(cell) for cell in cells))
    lines = _source_lines(text, cells)
    for number, cell in enumerate(cells, 1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if isinstance(source, list) and all(isinstance(s, str) for s in source):
            source = "".join(source)
        if not isinstance(source, str):
            program.skipped.append(f"cell {number}: its source is not text: skipped")
            continue
        first = source.lstrip().split("\n", 1)[0].strip()
        if first.startswith("%%"):
            if not first.startswith(_PYTHON_CELL_MAGICS):
                continue  # %%bash, %%writefile...: not Python
            source = "\n" + source.lstrip().split("\n", 1)[1] if "\n" in source.lstrip() else ""
        _add_chunk(program, blank_magics(source), lines.get(number, 0), number, f"cell {number}")
    return program


def _code_size(cell: object) -> int:
    if not isinstance(cell, dict) or cell.get("cell_type") != "code":
        return 0
    source = cell.get("source")
    if isinstance(source, str):
        return len(source)
    return sum(len(s) for s in source if isinstance(s, str)) if isinstance(source, list) else 0


def _source_lines(text: str, cells: list[object]) -> dict[int, int]:
    """The file line of each code cell's first source line, where the text shows it plainly.

    Jupyter writes ``"source": [`` and then one line of code per line of JSON. The array is found by
    scanning for ``"source"`` keys in order and confirmed by decoding it and comparing it with the
    parsed cell; a cell whose source is not laid out so gets no file line (0), only its cell number.
    """
    found: dict[int, int] = {}
    decoder = json.JSONDecoder()
    pattern = re.compile(r'"source"\s*:\s*')
    position = 0
    counted_to, line_at = 0, 1  # lines counted incrementally: the text may be tens of megabytes
    for number, cell in enumerate(cells, 1):
        if not isinstance(cell, dict) or "source" not in cell:
            continue
        source = cell["source"]
        while True:  # the next "source" key whose value is this cell's (a key in metadata is passed over)
            match = pattern.search(text, position)
            if match is None:
                return found
            try:
                value, end = decoder.raw_decode(text, match.end())
            except (ValueError, RecursionError):
                position = match.end()
                continue
            position = end
            if value == source:
                break
        if cell.get("cell_type") != "code" or not isinstance(source, list) or not source:
            continue
        first_item = text.find('"', match.end() + 1)
        line_at += text.count("\n", counted_to, first_item)
        counted_to = first_item
        # one item per JSON line: the array spans as many lines as it has items (the last ends it)
        if text.count("\n", first_item, end) == len(source):
            found[number] = line_at
    return found
