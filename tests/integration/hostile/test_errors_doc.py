"""docs/errors.md cannot go stale.

Part of the hostile-input tests (issue 4), split by surface; shared helpers in common.py.
"""

from __future__ import annotations

import re

from tests.conftest import ROOT
from tests.integration.hostile.common import ERRORS_DOC


# --------------------------------------------------------------------------- 7. docs/errors.md cannot go stale
def _codes_raised_in_src() -> set[str]:
    codes = set()
    for path in (ROOT / "lora_audit").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        codes |= set(re.findall(r'AuditError\(\s*"([a-z0-9-]+)"', text))
        # Codes handed to the shared file reader, which raises the AuditError itself.
        codes |= set(re.findall(r'read_small_text\([^()]*,\s*"([a-z0-9-]+)"\)', text))
    return codes


def test_every_error_code_is_documented():
    documented = set(re.findall(r"^### `([a-z0-9-]+)`$", ERRORS_DOC.read_text(encoding="utf-8"), re.M))
    raised = _codes_raised_in_src()
    assert len(raised) > 20, "the pattern that finds AuditError codes in lora_audit/ stopped working"
    assert raised - documented == set(), "add these codes to docs/errors.md"
    assert documented - raised == set(), "docs/errors.md lists codes nothing raises any more"


def test_readme_links_the_errors_page():
    assert "(docs/errors.md)" in (ROOT / "README.md").read_text(encoding="utf-8")
