"""What a renderer is: ``render(result, options) -> str``, a pure function of what the audit produced.

``result`` is one :class:`~lora_audit.report.Report`, or the :class:`~lora_audit.cli.batch.CheckReport`
of ``lora-audit check`` (one report per pair). :class:`RenderOptions` holds everything else a format
may depend on: the flags that add sections (``--tree``, ``--coverage``), the directory paths are shown
relative to, and, for the terminal, what the terminal is (:class:`TerminalSpec`). The renderer returns
the text; the CLI writes it (``cli/output.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, TypeAlias

if TYPE_CHECKING:
    from lora_audit.cli.batch import CheckReport
    from lora_audit.report import Report

#: What a renderer renders: one audit, or a check run's audits.
Result: TypeAlias = "Report | CheckReport"
#: rich's colour systems (``Console(color_system=...)``).
ColorSystem: TypeAlias = Literal["standard", "256", "truecolor", "windows"]
COLOR_SYSTEMS: dict[str, ColorSystem] = {"standard": "standard", "256": "256", "truecolor": "truecolor",
                                         "windows": "windows"}


@dataclass(frozen=True)
class TerminalSpec:
    """The terminal the text is for, as rich sees it: the renderer draws for it without touching it.

    The CLI reads these from a rich ``Console`` on stdout (width from the terminal or ``$COLUMNS``,
    colours from ``$TERM`` / ``$NO_COLOR`` / ``$FORCE_COLOR``); tests give them directly.
    """

    width: int = 80
    #: rich's colour system, or None for no colour
    color_system: ColorSystem | None = None
    #: stdout is a terminal: tables may wrap and fold; when False (a CI log) nothing breaks inside a word
    is_terminal: bool = False
    legacy_windows: bool = False
    no_color: bool = False


@dataclass(frozen=True)
class RenderOptions:
    """Everything besides the result that a format may depend on."""

    tree: bool = False  #: the terminal report adds the module tree (``--tree``)
    coverage: bool = False  #: the terminal report adds the per-block coverage (``--coverage``)
    #: the directory file paths are shown relative to (CI formats: the repository's checkout); None: as they are
    root: str | None = None
    terminal: TerminalSpec = field(default_factory=TerminalSpec)


#: A renderer: the result and the options in, the text out.
Renderer: TypeAlias = Callable[["Result", RenderOptions], str]


__all__ = ["COLOR_SYSTEMS", "ColorSystem", "RenderOptions", "Renderer", "Result", "TerminalSpec"]
