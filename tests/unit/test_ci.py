"""CI (.ci/run) lints and type-checks before the README's tests, with the versions the test extra pins."""

from __future__ import annotations

import re
import subprocess
import tomllib

from tests.conftest import ROOT

CI = ROOT / ".ci" / "run"


def _readme_test_command() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return readme.split("<!-- test-command -->", 1)[1].split("```bash\n", 1)[1].split("\n```", 1)[0]


def test_ci_runs_ruff_and_mypy_between_the_install_and_the_tests(tmp_path):
    # .ci/run's own split of the command, run on the README's: what it would execute, in order.
    script = CI.read_text()
    split = "\n".join(line for line in script.splitlines() if re.match(r"(setup|tests|lint)=", line))
    probe = tmp_path / "probe.sh"
    probe.write_text(f'command={_readme_test_command()!r}\n{split}\nprintf "%s\\n" "$setup" "$lint" "$tests"\n')
    setup, lint, tests = subprocess.run(["bash", str(probe)], capture_output=True, text=True,
                                        check=True).stdout.splitlines()
    assert "pip install -e '.[test]'" in setup and tests == "pytest"
    assert lint == "ruff check lora_audit tests scripts benchmarks && mypy"
    assert 'bash -euo pipefail -c "$setup && $lint && $tests && $slow"' in script
    assert 'slow="pytest -m slow"' in script  # the tests the default run leaves out run in CI


def test_the_linters_are_pinned_in_the_test_extra():
    extra = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["test"]
    pins = dict(re.fullmatch(r"([\w-]+)==([\w.]+)", req).groups() for req in extra if "==" in req)
    assert {"ruff", "mypy"} <= set(pins)
