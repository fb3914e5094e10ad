"""Every file lora-audit reads or writes goes through lora_audit/guards/files.py (issue 16, item 4).

No module may call ``open``, ``os.open``, ``Path.read_text`` or ``Path.read_bytes`` itself, except
the few below, each for a reason that makes it safe.
"""

from __future__ import annotations

import ast

from tests.conftest import ROOT

#: (module, the call's first characters) -> why it is safe without the guard.
ALLOWED = {
    ("lora_audit/adapter/compare.py", "path.read_text("): "a bundled catalogue config (package data)",
    ("lora_audit/cli/cache.py", "os.open(path, os.O_RDONLY | os.O_NOFOLLOW"): "the cache secret: O_NOFOLLOW, fstat",
    ("lora_audit/cli/cache.py", "os.fdopen(fd, 'wb')"): "a temporary file mkstemp just made",
    ("lora_audit/cli/cache.py", "os.fdopen(fd, 'w'"): "a temporary file mkstemp just made",
    ("lora_audit/render/json_report.py", "os.fdopen(fd, 'w'"): "a temporary file mkstemp just made",
    ("lora_audit/cli/streams.py", "os.open(os.devnull"): "/dev/null for a closed standard stream",
    ("lora_audit/cli/streams.py", "open(os.devnull"): "/dev/null for a closed standard stream",
    ("lora_audit/cli/streams.py", "open(fd, "): "re-opening a standard stream's descriptor",
    ("lora_audit/guards/budget.py", "open('/proc/self/statm'"): "the kernel's memory counters",
    ("lora_audit/model/local.py", "os.open(path, os.O_RDONLY | os.O_NONBLOCK)"):
        "a pipe, read with select and a deadline",
}


def opens() -> list[tuple[str, str]]:
    found = []
    for path in sorted((ROOT / "lora_audit").rglob("*.py")):
        module = path.relative_to(ROOT).as_posix()
        if module == "lora_audit/guards/files.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            is_os = isinstance(func, ast.Attribute) and getattr(func.value, "id", None) == "os"
            if name in ("open", "read_text", "read_bytes") and (not is_os or name == "open") or (
                    is_os and name == "fdopen"):
                found.append((module, ast.unparse(node)))
    return found


def test_every_open_goes_through_the_guard():
    unguarded = [(module, call) for module, call in opens()
                 if not any(module == m and call.startswith(prefix) for m, prefix in ALLOWED)]
    assert unguarded == [], "open these through lora_audit/guards/files.py"


def test_the_walk_finds_opens():
    assert len(opens()) >= len(ALLOWED) - 1  # the allow-list is not stale: it names real calls
