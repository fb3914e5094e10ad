"""Resolve the proposed LoRA config from flags, a file, a dict or a ``peft.LoraConfig``.

Flags override the file. Values PEFT 0.21 accepts silently but that cannot train (``r=0``,
``lora_dropout=1.5``, ``bias="foo"``) are refused here with a one-line error; everything else
is validated by constructing a real ``LoraConfig``, so PEFT's own messages are the floor.
"""

from __future__ import annotations

import copy
import dataclasses
import enum
import math
import os
import re
import reprlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import yaml

from lora_audit.capture import capture_messages
from lora_audit.config import frontends, methods
from lora_audit.config.fields import IGNORED_FILE_FIELDS, lora_field_names, split_known
from lora_audit.config.frontends.python import FLAGS, VALUE_ONLY
from lora_audit.config.loading import load_config_file
from lora_audit.config.methods import LORA
from lora_audit.errors import AuditError
from lora_audit.guards.numbers import MIN_NORMAL, check_numbers
from lora_audit.naming import did_you_mean
from lora_audit.report import plain

if TYPE_CHECKING:
    from peft import LoraConfig

    from lora_audit.config.frontends import Translation

BIAS_VALUES = ("none", "all", "lora_only")
TASK_TYPES = ("CAUSAL_LM", "SEQ_2_SEQ_LM", "SEQ_CLS", "TOKEN_CLS", "QUESTION_ANS", "FEATURE_EXTRACTION")
ALL_LINEAR = "all-linear"
#: Beyond any layer's width (the widest weights have a few hundred thousand rows): a rank this large is a
#: typo, and past 2**63 torch cannot even describe the tensor.
MAX_RANK = 1 << 20
#: PEFT compiles one regex per modules_to_save entry for every module name; past Python's regex cache (512) each
#: is recompiled every time: 2,000 entries cost over a minute. Real configs list a handful (lm_head, embed_tokens).
MAX_SAVED_ENTRIES = 256
#: ``--layers 0-99999999`` would build a list of a hundred million indices; real models have a few hundred layers.
MAX_LAYER_INDEX = 100_000
#: LoraConfig fields that are switches: PEFT tests them for truth, so "no" would silently mean yes.
_BOOL_FIELDS = ("use_dora", "use_rslora", "fan_in_fan_out")


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
    #: the quantization a framework config asks for (``load_in_4bit``, ``adapter: qlora``, ``quantization_bit``):
    #: ``{"method": "bitsandbytes", "bits": 4, "source": "<file>: load_in_4bit"}``; None when it asks for none
    quantization_request: dict[str, Any] | None = None
    #: the LoraConfig fields ``config`` was made from (file, then flags)
    fields: dict[str, Any] = field(default_factory=dict)
    #: the fields given as flags (they win over the file, also after a model-dependent expansion)
    flags: dict[str, Any] = field(default_factory=dict)
    #: how a front-end read the config file (None: no file)
    translation: Translation | None = None
    #: PEFT's ``peft_type`` of the method: ``LORA``, ``LOHA``, ``IA3``... (``config`` is that method's config class)
    method: str = LORA

    @property
    def prompt_learning(self) -> bool:
        """A method that trains virtual tokens and adapts no module (prefix, prompt, P-tuning...)."""
        return methods.is_prompt_learning(self.method)

    @property
    def modules_to_save(self) -> list[str]:
        return list(getattr(self.config, "modules_to_save", None) or [])

    def as_dict(self) -> dict[str, Any]:
        """The config as plain JSON data (sets sorted, enums as their values)."""
        return plain(self.config.to_dict())


# --------------------------------------------------------------------------- entry points
def resolve_lora_config(
    lora_config: Any = None,
    file: str | os.PathLike[str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    select: int | None = None,
) -> LoraSpec:
    """Build a :class:`LoraSpec` from a ``LoraConfig``/dict, a config file, and flag overrides (last wins).

    ``select`` picks one config of a training script that builds several (0-based).
    """
    fields: dict[str, Any] = {}
    unknown: list[str] = []
    origin: list[str] = []
    flags = {k: v for k, v in (overrides or {}).items() if v is not None}
    # --method (the overrides' peft_type) wins over the file's and the object's method.
    flag_method = methods.normalise(flags.pop("peft_type"), "--method") if "peft_type" in flags else None
    method = flag_method or LORA
    if lora_config is not None:
        if _is_peft_config(lora_config):
            method = flag_method or methods.normalise(lora_config.peft_type, type(lora_config).__name__)
            fields.update(_config_fields(lora_config))
            origin.append(type(lora_config).__name__)
        elif isinstance(lora_config, dict):
            data = dict(lora_config)
            if "peft_type" in data and flag_method is None:
                method = methods.normalise(data["peft_type"], "the lora_config dict's peft_type")
            known, unknown = split_known(data, "the lora_config dict", method)
            fields.update(known)
            origin.append("dict")
        else:
            raise AuditError(
                "invalid-lora-config",
                f"lora_config must be a peft.LoraConfig (or another PEFT method's config) or a dict, not "
                f"{type(lora_config).__name__}",
                "pass LoraConfig(...) or a dict of LoraConfig fields",
            )
    translation = None
    if file is not None:
        loaded = load_config_file(file)
        translation = frontends.translate(loaded, select)
        if translation.method != LORA and flag_method is None:
            method = translation.method
        fields.update(translation.fields)
        unknown += translation.unknown_fields
        origin.append(str(loaded.path))
    flags = method_flags(flags, method)
    if translation is not None and translation.script is not None:
        check_script_arguments(translation, flags)
    if flags or flag_method:
        fields.update(flags)
        origin.append("flags")
    validate_fields(fields, method)
    config = _make_config(fields, method)
    return LoraSpec(config=config, entries=target_entries(fields, method), origin=" + ".join(origin) or "defaults",
                    unknown_fields=sorted(set(unknown)), fields=fields, flags=flags, translation=translation,
                    quantization_request=translation.quantization if translation is not None else None,
                    method=method)


#: LoRA's flags under the name another method gives the same field (LoHa's and LoKr's ``alpha``).
_RENAMED_FLAGS = {"lora_alpha": "alpha"}
#: The command-line flag of each LoraConfig field, for messages.
_FLAG_OF = {"r": "--rank", "lora_alpha": "--alpha", "lora_dropout": "--dropout", "bias": "--bias",
            "use_dora": "--dora", "use_rslora": "--rslora", "fan_in_fan_out": "--fan-in-fan-out",
            "target_parameters": "--target-parameters", "rank_pattern": "--rank-pattern",
            "alpha_pattern": "--alpha-pattern"}


def method_flags(flags: dict[str, Any], method: str) -> dict[str, Any]:
    """The flags as ``method``'s config fields: ``--alpha`` is LoHa's ``alpha``; a field it lacks is an error."""
    names = lora_field_names(method)
    out = {}
    for name, value in flags.items():
        if name == "task_type" or (name not in names and method == LORA):
            out[name] = value  # PEFT's own TypeError names a LoRA field it lacks, as the script would raise it
            continue
        if name not in names and _RENAMED_FLAGS.get(name) in names:
            name = _RENAMED_FLAGS[name]
        if name not in names:
            flag = _FLAG_OF.get(name, f"--set {name}=...")
            close = did_you_mean(name, sorted(names))
            raise AuditError(
                "invalid-lora-config",
                f"{flag} sets {name}, which {methods.label(method)} does not have "
                f"({methods.config_class(method).__name__} has no such field)",
                f"did you mean --set {close[0]}=...?" if close else
                f"drop {flag}; {methods.label(method)}'s fields are: {', '.join(sorted(names - _BOOKKEEPING))}",
            )
        out[name] = value
    return out


#: PeftConfig's own fields, on every method: not something a user sets.
_BOOKKEEPING = {"peft_type", "auto_mapping", "peft_version", "base_model_name_or_path", "revision", "task_type",
                "inference_mode"}


#: Argument names people write for LoraConfig fields that are too far off for a did-you-mean.
_SLIPS = {"rank": "r", "alpha": "lora_alpha", "dropout": "lora_dropout", "targets": "target_modules",
          "target": "target_modules", "modules": "target_modules"}


def check_script_arguments(translation: Translation, flags: Mapping[str, Any]) -> None:
    """A script's config as PEFT would take it: every argument a LoraConfig field, every unread one given by a flag.

    ``LoraConfig(rank=8)`` raises ``TypeError`` in the script itself; an argument reading cannot know
    (``r=args.rank``) must come from a flag, or the audit stops: a default in its place would be a
    silently wrong number.
    """
    script = translation.script
    where = translation.file or "the script"
    names = lora_field_names(translation.method)
    for argument in script.arguments if script.arguments_are_fields else ():
        if argument.name not in names and argument.name != "**":
            close = did_you_mean(argument.name, sorted(names)) or [
                name for slip, name in _SLIPS.items() if slip == argument.name.lower()]
            raise AuditError(
                "invalid-lora-config",
                f"{where}: {argument.place}: {script.call}() has no argument {argument.name!r} (PEFT raises "
                "TypeError when the script runs)",
                f"did you mean {close[0]}?" if close else "use LoraConfig's field names (r, lora_alpha, "
                "target_modules, ...)",
            )
    for name, argument in script.unresolved.items():
        if name in flags:
            argument.origin = "flag"
            continue
        if name == "**":
            raise AuditError(
                "script-unresolved",
                f"{where}: {argument.place}: {script.call}({argument.expression}) passes arguments known only when "
                f"the script runs ({argument.why})",
                "write the LoraConfig arguments as keywords in the script, or pass the config as a file with "
                "--config",
            )
        if name in VALUE_ONLY:
            translation.steps.append(f"{name}={argument.expression} is not read ({argument.why}); it sets initial "
                                     "values, not what is trained: left at PEFT's default")
            argument.origin = "default"
            continue
        flag = FLAGS.get(name)
        raise AuditError(
            "script-unresolved",
            f"{where}: {argument.place}: {name}={argument.expression} is known only when the script runs "
            f"({argument.why})",
            f"pass it with {flag}" if flag else f"write {name} as a literal in the script, or pass the config as "
                                                "a JSON/YAML file with --config",
        )


def expand_for_model(spec: LoraSpec, built: Any) -> LoraSpec:
    """Run the front-end's model-dependent step (e.g. axolotl's ``lora_target_linear``) on the built model.

    Flags still win over what the step produces. Returns ``spec`` itself when there is no such step.
    """
    translation = spec.translation
    if translation is None or translation.expand is None:
        return spec
    expansion = translation.expand(built)
    fields = {**spec.fields, **expansion.fields, **spec.flags}
    validate_fields(fields, spec.method)
    translation.steps = [*translation.steps, *expansion.steps]
    translation.fields = {**translation.fields, **expansion.fields}
    translation.sources = {**translation.sources, **expansion.sources}
    return dataclasses.replace(spec, config=_make_config(fields, spec.method),
                               entries=target_entries(fields, spec.method), fields=fields)


def _is_peft_config(value: Any) -> bool:
    from peft import PeftConfig

    return isinstance(value, PeftConfig)


def _config_fields(config: Any) -> dict[str, Any]:
    # Copy, so nothing we (or PEFT) do can reach the caller's object.
    out = {}
    for f in dataclasses.fields(config):
        if f.name in IGNORED_FILE_FIELDS:
            continue
        out[f.name] = copy.deepcopy(getattr(config, f.name))
    return out


# --------------------------------------------------------------------------- validation
def validate_fields(fields: dict[str, Any], method: str = LORA) -> None:
    """The checks PEFT does not make (or makes with a less useful message).

    LoRA's own values (its rank, alpha, dropout, bias, patterns) are checked for LoRA only: another method
    gives them other meanings (OFT's ``r=0`` means "use oft_block_size"; AdaLoRA saves rank masks in
    ``rank_pattern``), and its config class checks them itself.
    """
    # Before anything compares, converts or prints a value: a 5,000-digit integer cannot even be printed.
    check_numbers(fields, "the LoRA config", "invalid-lora-value")
    for name, value in fields.items():
        # The report repeats the config, and JSON has no way to write inf or NaN.
        if not _all_finite(value):
            _bad(name, value, "numbers in a LoRA config must be finite (no inf, no NaN)")
    _check_targets(fields.get("layers_pattern"), "layers_pattern", inside=_LAYERS_PATTERN_REGEX, each=True)
    _check_targets(fields.get("target_modules"), "target_modules")
    _check_targets(fields.get("target_parameters"), "target_parameters", inside=None)
    _check_targets(fields.get("modules_to_save"), "modules_to_save", inside=_SAVED_REGEX, each=True)
    task = fields.get("task_type")
    if task is not None:
        task = task.value if isinstance(task, enum.Enum) else task
        if task not in TASK_TYPES:
            _bad("task_type", task, f"use one of {', '.join(TASK_TYPES)}")
        fields["task_type"] = task
    saved = fields.get("modules_to_save")
    if isinstance(saved, (list, tuple, set)) and len(saved) > MAX_SAVED_ENTRIES:
        raise AuditError(
            "invalid-lora-value",
            f"modules_to_save has {len(saved):,} entries: PEFT matches every one against every module name, "
            f"so past {MAX_SAVED_ENTRIES} the audit (and PEFT itself) would take minutes",
            "list the few modules to train in full (lm_head, embed_tokens, a classifier head)",
        )
    _check_targets(fields.get("exclude_modules"), "exclude_modules")
    layers = fields.get("layers_to_transform")
    if layers is not None:
        items = [layers] if isinstance(layers, int) else layers
        if not isinstance(items, (list, tuple)) or not all(
            isinstance(i, int) and not isinstance(i, bool) and i >= 0 for i in items
        ):
            _bad("layers_to_transform", layers, "give layer indices >= 0, e.g. --layers 0-11,20")
    if method == LORA:
        _validate_lora_values(fields)


def _validate_lora_values(fields: dict[str, Any]) -> None:
    r = fields.get("r")
    if r is not None and not _is_rank(r):
        _bad("r", r, f"the LoRA rank must be a whole number from 1 to {MAX_RANK} (typical: 8, 16, 32, 64)")
    alpha = fields.get("lora_alpha")
    if alpha is not None and not _is_alpha(alpha):
        _bad("lora_alpha", alpha, "alpha must be a finite number > 0 (commonly r or 2*r); 0 or less silences LoRA, "
             "and below 1e-300 the scaling underflows to 0")
    dropout = fields.get("lora_dropout")
    if dropout is not None and (
        isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0 <= dropout < 1
    ):
        _bad("lora_dropout", dropout, "dropout is a probability in [0, 1): 0.05 or 0.1 are usual")
    bias = fields.get("bias")
    if bias is not None and bias not in BIAS_VALUES:
        _bad("bias", bias, f"use one of {', '.join(BIAS_VALUES)}")
    for name in _BOOL_FIELDS:
        value = fields.get(name)
        if value is not None and not isinstance(value, bool):
            _bad(name, value, "use true or false")
    for name, minimum in (("rank_pattern", 1), ("alpha_pattern", None)):
        pattern = fields.get(name)
        if pattern is None:
            continue
        if not isinstance(pattern, dict):
            _bad(name, pattern, "give a mapping of module-name pattern to value, e.g. q_proj=32")
        for key, value in pattern.items():
            if not isinstance(key, str) or not key:
                _bad(name, pattern, "each key must be a module-name pattern, e.g. q_proj")
            _compile(key, name, _PATTERN_KEY_REGEX)
            if not (_is_rank(value) if name == "rank_pattern" else _is_alpha(value)):
                need = f"a whole number from 1 to {MAX_RANK}" if minimum else "a finite number > 0"
                _bad(f"{name}[{key}]", value, f"each value must be {need}")


def _all_finite(value: Any, seen: set[int] | None = None) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if not isinstance(value, (dict, list, tuple, set, frozenset)):
        return True
    # YAML aliases share one list many times over: visit each once, or nine levels of them take hours.
    seen = set() if seen is None else seen
    if id(value) in seen:
        return True
    seen.add(id(value))
    items = value.values() if isinstance(value, dict) else value
    return all(_all_finite(item, seen) for item in items)


def _is_rank(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_RANK


def _is_alpha(value: Any) -> bool:
    # Not infinity: the scaling would be too, and JSON has no way to write it.
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    # Above the smallest normal float times the largest rank: alpha/r never underflows to 0 (or a subnormal).
    return number and math.isfinite(value) and value / MAX_RANK >= MIN_NORMAL


#: How PEFT 0.21 embeds names in its own regular expressions (tuners_utils.check_target_module_exists
#: and utils.other.get_pattern_key): an entry that breaks the embedded pattern would crash PEFT.
_SAVED_REGEX = r"(^|.*\.){}($|\..*)"
_LAYERS_PATTERN_REGEX = r"(?:^|.*?\.){}\.(?P<idx>\d+)\."
_PATTERN_KEY_REGEX = r"(.*\.)?({})$"


def _check_targets(value: Any, name: str, inside: str | None = "{}", each: bool = False) -> None:
    """A string (a regex, matched as ``inside``) or a list of names (with ``each``, each one embedded in ``inside``)."""
    if value is None:
        return
    if isinstance(value, str):
        if not value.strip():
            _bad(name, value, "give at least one module name")
        if inside is not None and value.lower() != ALL_LINEAR:
            _compile(value, name, inside)
        return
    if not isinstance(value, (list, tuple, set)) or not all(isinstance(v, str) and v.strip() for v in value):
        _bad(name, value, "give a list of module names (strings)")
    if each and inside is not None:
        for item in value:
            _compile(item, name, inside)


def _compile(pattern: str, name: str, inside: str = "{}") -> None:
    try:
        re.compile(inside.replace("{}", pattern))
    except (re.error, RecursionError, OverflowError) as exc:
        raise AuditError(
            "invalid-lora-value",
            f"{name}: {_short(pattern)} is not a valid regular expression, as PEFT reads it ({exc})",
            "fix the pattern (escape literal dots and brackets: \\. \\( \\[)",
        ) from None


#: Keeps a hostile value (a YAML alias bomb, a megabyte-long list) from becoming a megabyte-long message.
_SHORT_REPR = reprlib.Repr()
_SHORT_REPR.maxlevel, _SHORT_REPR.maxlist, _SHORT_REPR.maxdict = 2, 8, 8
_SHORT_REPR.maxstring = _SHORT_REPR.maxother = 80


def _short(value: Any, limit: int = 200) -> str:
    text = _SHORT_REPR.repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _bad(name: str, value: Any, hint: str) -> None:
    raise AuditError("invalid-lora-value", f"{name}={_short(value)} is invalid", hint)


def _make_config(fields: dict[str, Any], method: str = LORA) -> Any:
    config_class = methods.config_class(method)

    with capture_messages("config"):
        try:
            return config_class(**fields)
        except (ValueError, TypeError) as exc:
            raise AuditError(
                "invalid-lora-config",
                f"PEFT rejects this {methods.label(method)} config: {' '.join(str(exc).split())}",
                "fix the value PEFT names",
            ) from None
        except ImportError as exc:  # init_lora_weights="loftq" needs scipy, "pissa" and others their packages
            raise AuditError(
                "missing-dependency",
                f"PEFT needs a package that is not installed for this LoRA config: {' '.join(str(exc).split())}",
                "install the package PEFT names (pip install ...), or choose another init_lora_weights",
            ) from None


def target_entries(fields: dict[str, Any], method: str = LORA) -> list[TargetEntry]:
    """The entries of ``target_modules`` and ``target_parameters``, in the order the user wrote them.

    A prompt-learning method (prefix tuning...) has none: it adapts no module.
    """
    entries: list[TargetEntry] = []
    if method != LORA and (methods.is_prompt_learning(method) or "target_modules" not in methods.field_names(method)):
        return entries
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
def parse_set(items: tuple[str, ...] | list[str]) -> dict[str, Any]:
    """``--set alpha=16 --set feedforward_modules=[down_proj]`` -> ``{"alpha": 16, "feedforward_modules": [...]}``.

    The value is read as YAML (safe_load: plain data only), as a config file's value would be.
    """
    out: dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key.isidentifier():
            raise AuditError("usage", f"--set {_short(item)} is not KEY=VALUE", "write it as --set alpha=16")
        try:
            out[key] = yaml.safe_load(text) if text.strip() else None
        except yaml.YAMLError:
            raise AuditError("usage", f"--set {key}={_short(text)}: the value is not valid YAML",
                             "quote a string, and write a list as [a, b]") from None
        if out[key] is None:
            raise AuditError("usage", f"--set {key}= has no value", f"give one, e.g. --set {key}=16")
    return out


def parse_list(text: str | None, flag: str = "", code: str = "invalid-lora-value") -> list[str] | None:
    """``"q_proj, v_proj"`` -> ``["q_proj", "v_proj"]``."""
    if text is None:
        return None
    where = f"{flag} " if flag else ""
    if not text.strip():
        raise AuditError(code, f"{where}was given an empty list", "give at least one name, e.g. q_proj")
    items = [t.strip() for t in text.split(",")]
    if not all(items):
        raise AuditError(code, f"{where}{_short(text)} has an empty entry", "separate names with single commas")
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
                f"--layers {_short(text)}: {_short(part)} is not a layer index or range",
                "use indices and ranges such as 0-11,20",
            )
        # Compare digit counts first: int() refuses numbers of more than 4300 digits with a ValueError.
        widest = len(str(MAX_LAYER_INDEX))
        bounds = (m.group(1), m.group(2) or m.group(1))
        start, end = (int(g) if len(g) <= widest else MAX_LAYER_INDEX + 1 for g in bounds)
        if max(start, end) > MAX_LAYER_INDEX:
            raise AuditError(
                "invalid-lora-value",
                f"--layers {_short(part)} is beyond any model (lora-audit accepts indices up to {MAX_LAYER_INDEX})",
                "give indices below the model's num_hidden_layers",
            )
        if end < start:
            raise AuditError(
                "invalid-lora-value",
                f"--layers {_short(text)}: the range {part!r} runs backwards",
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
                f"{flag} {_short(text)}: {_short(part.strip())} is not NAME=VALUE with VALUE {kind}",
                f"write it as {flag} q_proj=32,k_proj=16",
            ) from None
        out[key] = number
    return out
