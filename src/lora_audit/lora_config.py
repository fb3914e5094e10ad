"""Stage 2: resolve the proposed LoRA config from flags, a file, a dict or a ``peft.LoraConfig``.

Flags override the file. Values PEFT 0.21 accepts silently but that cannot train (``r=0``,
``lora_dropout=1.5``, ``bias="foo"``) are refused here with a one-line error; everything else
is validated by constructing a real ``LoraConfig``, so PEFT's own messages are the floor.
"""

from __future__ import annotations

import copy
import dataclasses
import enum
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import AuditError

if TYPE_CHECKING:
    from peft import LoraConfig

BIAS_VALUES = ("none", "all", "lora_only")
TASK_TYPES = ("CAUSAL_LM", "SEQ_2_SEQ_LM", "SEQ_CLS", "TOKEN_CLS", "QUESTION_ANS", "FEATURE_EXTRACTION")
ADAPTER_CONFIG_NAME = "adapter_config.json"
ALL_LINEAR = "all-linear"
#: Bookkeeping fields of a saved adapter_config.json that say nothing about what LoRA adapts.
_IGNORED_FILE_FIELDS = {"peft_type", "auto_mapping", "peft_version", "base_model_name_or_path", "revision"}


@dataclass
class TargetEntry:
    """One ``target_modules`` / ``target_parameters`` entry as the user wrote it."""

    kind: str  #: name | regex | all-linear | defaults | parameter
    pattern: str


@dataclass
class LoraSpec:
    """The proposed config: a ``LoraConfig`` (never handed to PEFT itself, only copies) and its entries."""

    config: LoraConfig
    entries: list[TargetEntry]
    origin: str  #: flags | <file> | <file> + flags | LoraConfig | dict
    unknown_fields: list[str] = field(default_factory=list)

    @property
    def modules_to_save(self) -> list[str]:
        return list(self.config.modules_to_save or [])

    def as_dict(self) -> dict[str, Any]:
        """The config as plain JSON data (sets sorted, enums as their values)."""
        return _plain(self.config.to_dict())


# --------------------------------------------------------------------------- entry points
def resolve_lora_config(
    lora_config: Any = None,
    file: str | Path | None = None,
    overrides: dict[str, Any] | None = None,
) -> LoraSpec:
    """Build a :class:`LoraSpec` from a ``LoraConfig``/dict, a config file, and flag overrides (last wins)."""
    fields: dict[str, Any] = {}
    unknown: list[str] = []
    origin: list[str] = []
    if lora_config is not None:
        if _is_lora_config(lora_config):
            fields.update(_config_fields(lora_config))
            origin.append("LoraConfig")
        elif isinstance(lora_config, dict):
            known, unknown = _split_known(lora_config, "the lora_config dict")
            fields.update(known)
            origin.append("dict")
        else:
            raise AuditError(
                "invalid-lora-config",
                f"lora_config must be a peft.LoraConfig or a dict, not {type(lora_config).__name__}",
                "pass LoraConfig(...) or a dict of LoraConfig fields",
            )
    if file is not None:
        path, data = load_config_file(file)
        known, unknown_in_file = _split_known(data, str(path))
        fields.update(known)
        unknown += unknown_in_file
        origin.append(str(path))
    if overrides:
        fields.update({k: v for k, v in overrides.items() if v is not None})
        origin.append("flags")
    validate_fields(fields)
    config = _make_config(fields)
    return LoraSpec(config=config, entries=target_entries(fields), origin=" + ".join(origin) or "defaults",
                    unknown_fields=sorted(set(unknown)))


def load_config_file(file: str | Path) -> tuple[Path, dict[str, Any]]:
    """Read a JSON/YAML file of LoraConfig fields, an adapter_config.json, or a directory holding one."""
    path = Path(file).expanduser()
    if path.is_dir():
        if not (path / ADAPTER_CONFIG_NAME).is_file():
            raise AuditError(
                "lora-config-not-found",
                f"{file} has no {ADAPTER_CONFIG_NAME}",
                "pass an adapter directory, or a JSON/YAML file of LoraConfig fields",
            )
        path = path / ADAPTER_CONFIG_NAME
    if not path.is_file():
        raise AuditError("lora-config-not-found", f"{file}: no such file", "check the --config path")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise AuditError("lora-config-unreadable", f"cannot read {path}: {exc}", "check the file") from None
    data = _parse(path, text)
    if not isinstance(data, dict):
        raise AuditError(
            "lora-config-invalid",
            f"{path} holds a {type(data).__name__}, not a mapping of LoraConfig fields",
            "write the config as key: value pairs (r, lora_alpha, target_modules, ...)",
        )
    peft_type = str(data.get("peft_type") or "LORA").upper()
    if peft_type != "LORA":
        raise AuditError(
            "not-a-lora-config",
            f"{path} is a {peft_type} adapter config, not LoRA",
            "lora-audit checks LoRA configs (peft_type LORA)",
        )
    return path, data


def _parse(path: Path, text: str) -> Any:
    if path.suffix.lower() in (".yaml", ".yml"):
        import yaml

        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" (line {mark.line + 1})" if mark is not None else ""
            raise AuditError(
                "lora-config-malformed",
                f"{path} is not valid YAML{where}: {getattr(exc, 'problem', None) or exc}",
                "fix the file",
            ) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise AuditError(
            "lora-config-malformed",
            f"{path} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})",
            "fix the file (YAML files need a .yaml or .yml suffix)",
        ) from None


def _lora_fields() -> set[str]:
    from peft import LoraConfig

    return {f.name for f in dataclasses.fields(LoraConfig)}


def _split_known(data: dict[str, Any], where: str) -> tuple[dict[str, Any], list[str]]:
    known_names = _lora_fields()
    known = {k: v for k, v in data.items() if k in known_names and k not in _IGNORED_FILE_FIELDS}
    unknown = [k for k in data if k not in known_names]
    if data and not known and not any(k in data for k in ("peft_type", "r", "target_modules")):
        hint = "pass a JSON/YAML file of LoraConfig fields (r, lora_alpha, target_modules, ...) or adapter_config.json"
        if "model_type" in data:
            hint = "this looks like a model config.json: pass it as MODEL, and the LoRA config with --config"
        raise AuditError("not-a-lora-config", f"{where} has no LoraConfig fields", hint)
    return known, unknown


def _is_lora_config(value: Any) -> bool:
    from peft import LoraConfig

    return isinstance(value, LoraConfig)


def _config_fields(config: LoraConfig) -> dict[str, Any]:
    # Copy, so nothing we (or PEFT) do can reach the caller's object.
    out = {}
    for f in dataclasses.fields(config):
        if f.name in _IGNORED_FILE_FIELDS:
            continue
        out[f.name] = copy.deepcopy(getattr(config, f.name))
    return out


# --------------------------------------------------------------------------- validation
def validate_fields(fields: dict[str, Any]) -> None:
    """The checks PEFT does not make (or makes with a less useful message)."""
    r = fields.get("r")
    if r is not None and (isinstance(r, bool) or not isinstance(r, int) or r < 1):
        _bad("r", r, "the LoRA rank must be a whole number >= 1 (typical: 8, 16, 32, 64)")
    alpha = fields.get("lora_alpha")
    if alpha is not None and (isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not alpha > 0):
        _bad("lora_alpha", alpha, "alpha must be a number > 0 (commonly r or 2*r); 0 or less silences the adapter")
    dropout = fields.get("lora_dropout")
    if dropout is not None and (
        isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0 <= dropout < 1
    ):
        _bad("lora_dropout", dropout, "dropout is a probability in [0, 1): 0.05 or 0.1 are usual")
    bias = fields.get("bias")
    if bias is not None and bias not in BIAS_VALUES:
        _bad("bias", bias, f"use one of {', '.join(BIAS_VALUES)}")
    task = fields.get("task_type")
    if task is not None:
        task = task.value if isinstance(task, enum.Enum) else task
        if task not in TASK_TYPES:
            _bad("task_type", task, f"use one of {', '.join(TASK_TYPES)}")
        fields["task_type"] = task
    _check_targets(fields.get("target_modules"), "target_modules")
    _check_targets(fields.get("target_parameters"), "target_parameters", regex_ok=False)
    _check_targets(fields.get("modules_to_save"), "modules_to_save", regex_ok=False)
    _check_targets(fields.get("exclude_modules"), "exclude_modules")
    layers = fields.get("layers_to_transform")
    if layers is not None:
        items = [layers] if isinstance(layers, int) else layers
        if not isinstance(items, (list, tuple)) or not all(
            isinstance(i, int) and not isinstance(i, bool) and i >= 0 for i in items
        ):
            _bad("layers_to_transform", layers, "give layer indices >= 0, e.g. --layers 0-11,20")
    for name, minimum in (("rank_pattern", 1), ("alpha_pattern", None)):
        pattern = fields.get(name)
        if pattern is None:
            continue
        if not isinstance(pattern, dict):
            _bad(name, pattern, "give a mapping of module-name pattern to value, e.g. q_proj=32")
        for key, value in pattern.items():
            _compile(key, name)
            number = isinstance(value, (int, float)) and not isinstance(value, bool)
            ok = number and (isinstance(value, int) and value >= 1 if name == "rank_pattern" else value > 0)
            if not ok:
                need = "a whole number >= 1" if minimum else "a number > 0"
                _bad(f"{name}[{key}]", value, f"each value must be {need}")


def _check_targets(value: Any, name: str, regex_ok: bool = True) -> None:
    if value is None:
        return
    if isinstance(value, str):
        if not value.strip():
            _bad(name, value, "give at least one module name")
        if regex_ok and value.lower() != ALL_LINEAR:
            _compile(value, name)
        return
    if not isinstance(value, (list, tuple, set)) or not all(isinstance(v, str) and v.strip() for v in value):
        _bad(name, value, "give a list of module names (strings)")


def _compile(pattern: str, name: str) -> None:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise AuditError(
            "invalid-lora-value",
            f"{name}: {pattern!r} is not a valid regular expression ({exc})",
            "fix the pattern (escape literal dots as \\.)",
        ) from None


def _bad(name: str, value: Any, hint: str) -> None:
    raise AuditError("invalid-lora-value", f"{name}={value!r} is invalid", hint)


def _make_config(fields: dict[str, Any]) -> LoraConfig:
    from peft import LoraConfig

    from .capture import capture_messages

    with capture_messages("config"):
        try:
            return LoraConfig(**fields)
        except (ValueError, TypeError) as exc:
            raise AuditError(
                "invalid-lora-config",
                f"PEFT rejects this LoRA config: {' '.join(str(exc).split())}",
                "fix the value PEFT names",
            ) from None


def target_entries(fields: dict[str, Any]) -> list[TargetEntry]:
    """The entries of ``target_modules`` and ``target_parameters``, in the order the user wrote them."""
    entries: list[TargetEntry] = []
    targets = fields.get("target_modules")
    if targets is None:
        if not fields.get("target_parameters"):
            entries.append(TargetEntry("defaults", "(PEFT defaults)"))
    elif isinstance(targets, str):
        kind = "all-linear" if targets.lower() == ALL_LINEAR else "regex"
        entries.append(TargetEntry(kind, targets))
    else:
        ordered = sorted(targets) if isinstance(targets, set) else list(dict.fromkeys(targets))
        entries += [TargetEntry("name", t) for t in ordered]
    params = fields.get("target_parameters") or []
    ordered = sorted(params) if isinstance(params, set) else list(dict.fromkeys(params))
    entries += [TargetEntry("parameter", p) for p in ordered]
    return entries


# --------------------------------------------------------------------------- flag parsing
def parse_list(text: str | None) -> list[str] | None:
    """``"q_proj, v_proj"`` -> ``["q_proj", "v_proj"]``."""
    if text is None:
        return None
    items = [t.strip() for t in text.split(",")]
    if not all(items):
        raise AuditError("invalid-lora-value", f"{text!r} has an empty entry", "separate names with single commas")
    return items


def parse_layers(text: str) -> list[int]:
    """``"0-11,20"`` -> ``[0, 1, ..., 11, 20]``."""
    layers: list[int] = []
    for part in text.split(","):
        part = part.strip()
        m = re.fullmatch(r"(\d+)(?:\s*-\s*(\d+))?", part)
        if not m:
            raise AuditError(
                "invalid-lora-value",
                f"--layers {text!r}: {part!r} is not a layer index or range",
                "use indices and ranges such as 0-11,20",
            )
        start, end = int(m.group(1)), int(m.group(2) or m.group(1))
        if end < start:
            raise AuditError(
                "invalid-lora-value",
                f"--layers {text!r}: the range {part!r} runs backwards",
                f"write it as {end}-{start}",
            )
        layers += range(start, end + 1)
    return sorted(set(layers))


def parse_pattern(text: str, flag: str, integer: bool) -> dict[str, int | float]:
    """``"q_proj=32,k_proj=16"`` -> ``{"q_proj": 32, "k_proj": 16}``."""
    out: dict[str, int | float] = {}
    for part in text.split(","):
        key, sep, value = part.partition("=")
        key, value = key.strip(), value.strip()
        try:
            if not (sep and key):
                raise ValueError
            number: int | float = int(value) if integer else float(value)
        except ValueError:
            kind = "a whole number" if integer else "a number"
            raise AuditError(
                "invalid-lora-value",
                f"{flag} {text!r}: {part.strip()!r} is not NAME=VALUE with VALUE {kind}",
                f"write it as {flag} q_proj=32,k_proj=16",
            ) from None
        out[key] = number
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (set, frozenset)):
        return sorted(_plain(v) for v in value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _plain(dataclasses.asdict(value))
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)
