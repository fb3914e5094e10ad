"""Which rules run, which findings are suppressed (and why), and when the run fails.

Settings come from ``[tool.lora-audit]`` in the nearest ``pyproject.toml`` and from flags
(flags win)::

    [tool.lora-audit]
    fail-on = "warning"
    select = ["LA001", "LA002", "LA003"]          # default: every rule
    ignore = { LA006 = "embedding rows are meant to be full rank", "LA001:c_proj" = "shared config" }
    severity = { LA009 = "error" }
    [tool.lora-audit.options]
    LA009 = { max-share = 0.3 }

A suppressed finding stays in the report, marked suppressed with its reason.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lora_audit.errors import AuditError
from lora_audit.guards.files import describe, read_regular_text
from lora_audit.guards.numbers import check_numbers
from lora_audit.report import FAIL_LEVELS, SEVERITIES
from lora_audit.rules import resolve_code

IGNORED_BY_FLAG = "ignored with --ignore"
#: A settings file is a few kB; a bigger one (or a device) is not read.
MAX_SETTINGS_BYTES = 4 * 1024 * 1024


@dataclass
class Settings:
    select: list[str] | None = None  #: rule codes or names to run; None runs all
    #: "LA006" or "LA001:c_proj" (code:subject) -> the reason it is suppressed
    ignore: dict[str, str] = field(default_factory=dict)
    severity: dict[str, str] = field(default_factory=dict)  #: code -> error | warning | info
    options: dict[str, dict[str, Any]] = field(default_factory=dict)  #: code -> {option: value}
    fail_on: str = "error"
    path: Path | None = None  #: the pyproject.toml they came from

    def merged(self, select: list[str] | None, ignore: list[str] | None, fail_on: str | None) -> Settings:
        """These settings with command-line flags applied on top."""
        out = Settings(
            select=select if select else self.select,
            ignore=dict(self.ignore),
            severity=dict(self.severity),
            options={k: dict(v) for k, v in self.options.items()},
            fail_on=fail_on or self.fail_on,
            path=self.path,
        )
        for key in ignore or []:
            out.ignore.setdefault(key, IGNORED_BY_FLAG)
        return out


#: A project's own settings file: the same keys as [tool.lora-audit], at its top level.
STANDALONE_NAME = "lora-audit.toml"


def find_pyproject(start: Path | None = None) -> Path | None:
    """The nearest lora-audit.toml, else pyproject.toml (a lora-audit.toml wins in the same folder)."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        for name in (STANDALONE_NAME, "pyproject.toml"):
            candidate = folder / name
            if candidate.is_file():
                return candidate
    return None


def settings_table(path: Path) -> dict[str, Any] | None:
    """The lora-audit table of ``path``: the whole of a lora-audit.toml, or [tool.lora-audit] of a pyproject.toml."""
    try:
        data = tomllib.loads(read_regular_text(path, MAX_SETTINGS_BYTES))
    except OSError as exc:
        raise AuditError("settings-invalid", f"cannot read {path}: {describe(exc)}",
                         "pass a pyproject.toml or lora-audit.toml that is a regular file of a few kB") from None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError, ValueError) as exc:  # ValueError: 4,300+ digits
        raise AuditError("settings-invalid", f"cannot read {path}: {str(exc)[:200]}", "fix the TOML syntax") from None
    table = data if path.name == STANDALONE_NAME else data.get("tool", {}).get("lora-audit")
    if table is not None and not isinstance(table, dict):
        raise AuditError("settings-invalid", f"[tool.lora-audit] in {path} is not a table", "see README 'Settings'")
    return table


def load_settings(path: Path | None = None, search: bool = True) -> Settings:
    """Settings from ``[tool.lora-audit]`` of ``path`` (or the nearest pyproject.toml)."""
    if path is None and search:
        path = find_pyproject()
    if path is None:
        return Settings()
    table = settings_table(path)
    if table is None:
        return Settings(path=None)
    return parse_settings(table, path)


def parse_settings(table: dict[str, Any], path: Path | None = None) -> Settings:
    where = f"[tool.lora-audit] in {path}" if path else "[tool.lora-audit]"
    if path is not None and path.name == STANDALONE_NAME:
        where = str(path)

    check_numbers(table, where, "settings-invalid")

    def bad(key: str, why: str) -> AuditError:
        return AuditError("settings-invalid", f"{where}: {key} {why}", "see README 'Settings' for the format")

    # audits: the (model, config) pairs `lora-audit check` runs (read by batch.py)
    known = {"select", "ignore", "severity", "options", "fail-on", "fail_on", "audits"}
    for key in table:
        if key in ("trust-remote-code", "trust_remote_code"):
            raise AuditError(
                "settings-invalid",
                f"{where}: trust-remote-code cannot be set in a settings file: it would run the model "
                "repository's code on the strength of a file in the checkout",
                "remove the key, and pass --trust-remote-code on the command line if you trust that code",
            )
        if key not in known:
            raise bad(key, f"is not a setting (known: {', '.join(sorted(known - {'fail_on'}))})")
    settings = Settings(path=path)
    fail_on = table.get("fail-on", table.get("fail_on", "error"))
    if fail_on not in FAIL_LEVELS:
        raise bad("fail-on", f"must be one of {', '.join(FAIL_LEVELS)}, not {fail_on!r}")
    settings.fail_on = fail_on
    select = table.get("select")
    if select is not None:
        if not isinstance(select, list):
            raise bad("select", "must be a list of rule codes")
        settings.select = [resolve_code(str(c), where) for c in select]
    ignore = table.get("ignore", {})
    if isinstance(ignore, list):
        ignore = {str(k): f"ignored in {path.name if path else 'settings'}" for k in ignore}
    if not isinstance(ignore, dict):
        raise bad("ignore", "must be a list of codes or a table of code = reason")
    for key, reason in ignore.items():
        code, _, subject = str(key).partition(":")
        code = resolve_code(code, where)
        settings.ignore[f"{code}:{subject}" if subject else code] = str(reason)
    severity = table.get("severity", {})
    if not isinstance(severity, dict):
        raise bad("severity", "must be a table of code = level")
    for key, level in severity.items():
        if level not in SEVERITIES:
            raise bad(f"severity.{key}", f"must be one of {', '.join(SEVERITIES)}")
        settings.severity[resolve_code(str(key), where)] = level
    options = table.get("options", {})
    if not isinstance(options, dict):
        raise bad("options", "must be a table of code = { option = value }")
    for key, values in options.items():
        if not isinstance(values, dict):
            raise bad(f"options.{key}", "must be a table of option = value")
        settings.options[resolve_code(str(key), where)] = {str(k).replace("-", "_"): v for k, v in values.items()}
    return settings
