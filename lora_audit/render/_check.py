"""What ``lora-audit check``'s terminal and markdown renderings share: the per-pair summary table and the verdict.

Pure functions of the :class:`~lora_audit.cli.batch.CheckReport`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lora_audit.cli.batch import CheckReport

HEADERS = ["model", "config", "trainable", "errors", "warnings", "infos", "suppressed", "result"]


def summary_rows(check: CheckReport) -> list[list[str]]:
    rows = []
    for result in check.results:
        pair = result.pair
        model = pair.model or "(from config)"
        config = pair.config_label or "(flags)"
        if result.report is None:
            code = result.error.code if result.error else "error"
            rows.append([model, config, "-", "-", "-", "-", "-", f"exit 2: {code}"])
            continue
        s = result.report.summary
        verdict = "ok" if result.report.ok else "fails"
        cached = ", cache" if result.report.from_cache else ""
        trainable = f"{result.report.params.trainable:,}"
        counts = [str(s[key]) for key in ("errors", "warnings", "infos", "suppressed")]
        rows.append([model, config, trainable, *counts, f"exit {result.exit_code}: {verdict}{cached}"])
    return rows


def verdict(check: CheckReport) -> str:
    n = len(check.results)
    failed = sum(r.exit_code != 0 for r in check.results)
    return f"{n} audit{'s' if n != 1 else ''}, {failed} failing · exit {check.exit_code}"


__all__ = ["HEADERS", "summary_rows", "verdict"]
