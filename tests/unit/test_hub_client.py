"""One hub client: every request lora-audit makes to the Hugging Face Hub goes through ``lora_audit/model/hub.py``
(``hub_request``, within the total deadline). No other module may call huggingface_hub's network functions."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "lora_audit"
CLIENT = PACKAGE / "model" / "hub.py"
#: huggingface_hub's functions and classes that make requests (huggingface_hub 2.4).
NETWORK = frozenset({
    "hf_hub_download", "snapshot_download", "get_hf_file_metadata", "hf_hub_url", "HfApi", "HfFileSystem",
    "parse_safetensors_file_metadata", "get_safetensors_metadata", "model_info", "repo_info", "file_exists",
    "list_repo_files", "list_repo_tree", "get_paths_info", "get_session", "http_get", "hf_api",
})


def requests_in(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    where = path.relative_to(ROOT) if ROOT in path.parents else path.name
    hub_names = set()  # names bound to huggingface_hub or one of its modules
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "huggingface_hub":
            for alias in node.names:
                if alias.name in NETWORK:
                    found.append(f"{where}:{node.lineno} imports {alias.name}")
                hub_names.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "huggingface_hub":
                    hub_names.add(alias.asname or alias.name.split(".")[0])
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in NETWORK:
            root = node.value
            while isinstance(root, ast.Attribute):
                root = root.value
            if isinstance(root, ast.Name) and root.id in hub_names:
                found.append(f"{where}:{node.lineno} calls {node.attr}")
    return found


def test_every_hub_request_goes_through_the_one_client():
    found = [f for path in sorted(PACKAGE.rglob("*.py")) if path != CLIENT for f in requests_in(path)]
    assert not found, "call lora_audit.model.hub (fetch_hub_file, check_hub_file, fetch_hub_header) instead:\n" + (
        "\n".join(found))


def test_the_client_makes_them_within_the_deadline():
    """Each public request function of the client calls hub_request, the one place with the deadline."""
    tree = ast.parse(CLIENT.read_text(encoding="utf-8"))
    functions = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    assert requests_in(CLIENT), "the client no longer makes requests: update NETWORK"
    for name in ("fetch_hub_file", "check_hub_file", "fetch_hub_header"):
        calls = {c.func.id for c in ast.walk(functions[name])
                 if isinstance(c, ast.Call) and isinstance(c.func, ast.Name)}
        assert "hub_request" in calls, name
    deadline = {c.func.attr for c in ast.walk(functions["hub_request"])
                if isinstance(c, ast.Call) and isinstance(c.func, ast.Attribute)}
    assert "call_with_deadline" in deadline


@pytest.mark.parametrize(
    "source, expected",
    [
        ("from huggingface_hub import hf_hub_download\n", 1),
        ("import huggingface_hub\nhuggingface_hub.HfApi().model_info('x')\n", 1),
        ("from huggingface_hub import try_to_load_from_cache\n", 0),
        ("from lora_audit.measure import counts\ncounts.model_info\n", 0),
    ],
)
def test_the_scan(tmp_path, source, expected):
    path = tmp_path / "probe.py"
    path.write_text(source, encoding="utf-8")
    assert len(requests_in(path)) == expected
