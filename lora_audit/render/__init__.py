"""The last stage, render: every output format, one module each, behind this registry.

A format module defines ``NAME`` (its ``--format`` value) and ``render(result, options) -> str``
(``_base.Renderer``): a pure function of the :class:`~lora_audit.report.Report`, or of
``lora-audit check``'s ``CheckReport``, and the :class:`RenderOptions`, that returns the text. The
terminal one draws with rich into a string, for the terminal ``options.terminal`` describes.
``cli/output.py`` picks a renderer by name and writes what it returns.

Adding a format is one module in this package and one name in ``_MODULE_NAMES``.
"""

from __future__ import annotations

import importlib

from lora_audit.render._base import Renderer, RenderOptions, Result, TerminalSpec

#: One module per format, in the order ``--format`` lists them. Adding a format is one file and one name here.
_MODULE_NAMES = ("terminal", "json_report", "markdown", "sarif", "github", "gitlab")
_MODULES = tuple(importlib.import_module(f".{name}", __name__) for name in _MODULE_NAMES)

#: ``--format`` value -> its renderer.
RENDERERS: dict[str, Renderer] = {module.NAME: module.render for module in _MODULES}
FORMATS = tuple(RENDERERS)


def render(fmt: str, result: Result, options: RenderOptions | None = None) -> str:
    """``result`` in the format named ``fmt`` (one of :data:`FORMATS`)."""
    return RENDERERS[fmt](result, options or RenderOptions())


__all__ = ["FORMATS", "RENDERERS", "RenderOptions", "Renderer", "Result", "TerminalSpec", "render"]
