"""How to install an optional library: its requirement as lora-audit's own extra declares it.

The hint names the library itself (``pip install 'diffusers>=0.42.1'``), read from the installed
distribution's metadata (``pyproject.toml``'s ``[project.optional-dependencies]``), so it works however
lora-audit was installed (a clone, a git URL, a wheel) and never names a distribution an index lacks.
"""

from __future__ import annotations

import re
from importlib import metadata

DISTRIBUTION = "lora-audit-cli"


def requirement(extra: str, library: str) -> str:
    """``library``'s requirement in ``extra`` (``diffusers>=0.42.1``), or the bare name without metadata."""
    try:
        declared = metadata.requires(DISTRIBUTION) or []
    except metadata.PackageNotFoundError:
        declared = []
    marker = re.compile(rf"""extra\s*==\s*["']{re.escape(extra)}["']""")
    for line in declared:
        spec, _, markers = line.partition(";")
        name = re.split(r"[\s<>=!~\[(]", spec.strip(), maxsplit=1)[0]
        if marker.search(markers) and name.lower() == library.lower():
            return spec.strip().replace(" ", "")
    return library


def install_hint(extra: str, library: str) -> str:
    return f"pip install '{requirement(extra, library)}' (lora-audit's [{extra}] extra)"
