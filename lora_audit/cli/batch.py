"""Running audits for the command line: one audit through the result cache, or every pair a project declares.

``run_audit`` is the pipeline behind the cache (a hit imports neither torch, transformers nor peft)
with the baseline applied. ``lora-audit check`` audits many (model, config) pairs in one process,
so the imports are paid once; the pairs come from::

    # pyproject.toml                                   # or lora-audit.toml (the same keys, top level)
    [tool.lora-audit]
    audits = [
      { model = "Qwen/Qwen2.5-0.5B", config = "train/lora.yaml" },
      { model = "./models/base", config = "train/adapter", task-type = "SEQ_CLS" },
    ]

or from config files given as arguments: a declared pair whose config is one of them runs with its
model; a saved adapter (directory, adapter_config.json, .safetensors) runs against the base it
names; any other file runs with ``--model``, or with the model its framework config names.
Config paths are relative to the file that declares them.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lora_audit import pipeline
from lora_audit.cli import cache
from lora_audit.config.frontends import python as python_frontend
from lora_audit.config.loading import load_config_file
from lora_audit.config.static.sources import kind_of
from lora_audit.errors import AuditError
from lora_audit.integrations import huggingface_hub as network
from lora_audit.model.locate import resolve_model_source
from lora_audit.report import SCHEMA_VERSION, Report
from lora_audit.request import AuditRequest, MemoryRequest
from lora_audit.rules.engine import run_rules
from lora_audit.rules.settings import Settings, find_pyproject, settings_table

#: Keys of one entry of ``audits``: the model, its LoRA config, and the audit flags that make sense per pair.
#: What an entry may set. Never trust-remote-code: only the command line enables code execution.
PAIR_KEYS = {"model", "config", "revision", "task-type", "model-class", "lora"}


@dataclass
class Pair:
    """One (model, LoRA config) to audit."""

    model: str | None
    config: str | None
    revision: str | None = None
    task_type: str | None = None
    model_class: str | None = None
    trust_remote_code: bool = False
    #: LoraConfig fields that override the file's, as the flags do (``lora = { r = 16 }``)
    overrides: dict[str, Any] = field(default_factory=dict)
    #: False for a file given on the command line that no declared pair names: when it turns out
    #: not to be a LoRA config at all (the pre-commit hook passes every changed JSON/YAML), it is skipped
    declared: bool = True
    #: for a training script that builds several configs: which one (0-based), and where it is built
    select: int | None = None
    at: str | None = None  #: ``line 42`` / ``cell 7, line 3``
    #: the memory estimate to run with the audit (``lora-audit train.py --memory`` on a script with several configs)
    memory: MemoryRequest | None = None
    #: the quantization training loads the base with, from --load-in-4bit / --quantization (wins over the file's)
    quantization: dict[str, Any] | None = None

    @property
    def config_label(self) -> str | None:
        """The config as shown: ``train.py``, or ``train.py:42`` / ``nb.ipynb: cell 7, line 3`` for one of several."""
        if self.config is None or self.at is None:
            return self.config
        return f"{self.config}:{self.at.removeprefix('line ')}" if self.at.startswith("line ") \
            else f"{self.config}: {self.at}"

    @property
    def label(self) -> str:
        return " + ".join(part for part in (self.model, self.config_label) if part) or "?"


#: Errors that mean "this file is not a LoRA config" (not JSON/YAML, not a mapping, no LoRA fields).
NOT_A_LORA_CONFIG = ("not-a-lora-config", "lora-config-invalid", "lora-config-malformed")


@dataclass
class PairResult:
    pair: Pair
    report: Report | None = None
    error: AuditError | None = None
    #: why an undeclared file was not audited (it is not a LoRA config); skipped results are not shown
    skipped: str | None = None

    @property
    def exit_code(self) -> int:
        return 2 if self.report is None else self.report.exit_code


@dataclass
class CheckReport:
    """What ``lora-audit check`` produced: one result per pair, in order."""

    results: list[PairResult]
    declared_in: str | None = None  #: the settings file the pairs came from
    #: files given as arguments that are not LoRA configs (the pre-commit hook passes every changed file)
    skipped: list[PairResult] = field(default_factory=list)

    @property
    def reports(self) -> list[Report]:
        return [r.report for r in self.results if r.report is not None]

    @property
    def exit_code(self) -> int:
        """The worst of the pairs: 2 (an audit could not run) > 1 (findings) > 0."""
        return max((r.exit_code for r in self.results), default=0)

    def to_dict(self) -> dict[str, Any]:
        pairs = []
        for result in self.results:
            entry: dict[str, Any] = {"model": result.pair.model, "config": result.pair.config,
                                     "exit_code": result.exit_code}
            if result.pair.at is not None:
                entry["config_at"] = result.pair.at
            if result.report is not None:
                entry["report"] = result.report.to_dict()
            else:
                entry["error"] = result.error.to_dict() if result.error else None
            pairs.append(entry)
        return {"schema_version": SCHEMA_VERSION, "check": {"declared_in": self.declared_in, "pairs": pairs,
                                                            "exit_code": self.exit_code}}


# --------------------------------------------------------------------------- one audit
def run_audit(request: AuditRequest, *, use_cache: bool = True) -> Report:
    """``pipeline.audit(request)`` behind the result cache (see ``cache.py``): same report.

    Not cached: a saved adapter (``adapter``: its inputs are the adapter's files), a diffusers
    pipeline component, a model named only by the config file, and an nn.Module.
    """
    settings = request.settings or Settings()
    request = request.with_changes(settings=settings)
    model = request.model
    if not (use_cache and request.adapter is None and request.component is None and cache.enabled()
            and request.assume_base is None and isinstance(model, (str, os.PathLike))):
        return _pipeline(request)
    # The same call the pipeline makes for a model given by name: its errors are the pipeline's errors.
    network.check_environment()  # as the pipeline does: a bad hub variable is named before the hub is used
    with network.offline_mode(request.offline):
        source = resolve_model_source(os.fspath(model), revision=request.revision, offline=request.offline,
                                      status=request.status)
    report, hit = cache.cached(source, request, lambda: _pipeline(request.with_changes(model=source)))
    if hit:
        report.fail_on = settings.fail_on
        report.findings = run_rules(report, settings)
    return report


def _pipeline(request: AuditRequest) -> Report:
    return pipeline.audit(request)


# --------------------------------------------------------------------------- which pairs
def declared_pairs(path: Path | None = None) -> tuple[list[Pair], Path | None]:
    """The ``audits`` of the nearest lora-audit.toml / pyproject.toml, with config paths made absolute."""
    path = path or find_pyproject()
    if path is None:
        return [], None
    table = settings_table(path) or {}
    audits = table.get("audits", [])
    where = f"audits in {path}"

    def bad(why: str) -> AuditError:
        return AuditError("audits-invalid", f"{where}: {why}",
                          'write audits = [{ model = "org/name", config = "lora.yaml" }, ...]')

    if not isinstance(audits, list):
        raise bad("must be a list of { model = ..., config = ... } tables")
    pairs = []
    for i, entry in enumerate(audits):
        if not isinstance(entry, dict):
            raise bad(f"entry {i + 1} is not a table")
        if "trust-remote-code" in entry or "trust_remote_code" in entry:
            # A settings file in the checked-out tree is the pull request author's, not the CI owner's.
            raise AuditError(
                "settings-invalid",
                f"{where}: entry {i + 1} sets trust-remote-code, which a settings file may not: it would run "
                "the model repository's code on the strength of a file in the checkout",
                "remove the key, and pass --trust-remote-code to lora-audit check if you trust that code",
            )
        unknown = set(entry) - PAIR_KEYS
        if unknown:
            raise bad(f"entry {i + 1} has unknown keys {', '.join(sorted(unknown))} (known: "
                      f"{', '.join(sorted(PAIR_KEYS))})")
        if not entry.get("model") and not entry.get("config"):
            raise bad(f"entry {i + 1} names neither a model nor a config")
        for key in ("model", "config", "revision", "task-type", "model-class"):
            if key in entry and not isinstance(entry[key], str):
                raise bad(f"entry {i + 1}: {key} must be a string")
        lora = entry.get("lora", {})
        if not isinstance(lora, dict):
            raise bad(f"entry {i + 1}: lora must be a table of LoraConfig fields")
        config = entry.get("config")
        model = entry.get("model")
        if model and _is_local(path.parent / model):
            model = _shown(path.parent / model)
        pairs.append(Pair(
            model=model,
            config=_shown(path.parent / config) if config else None,
            revision=entry.get("revision"),
            task_type=entry["task-type"].upper() if entry.get("task-type") else None,
            model_class=entry.get("model-class"),
            overrides=dict(lora),
        ))
    return pairs, path


def _shown(path: Path) -> str:
    """``path`` relative to the current directory when it is under it (as a user would type it)."""
    rel = os.path.relpath(path, Path.cwd())
    return str(path) if rel.startswith("..") else rel


def _is_local(path: Path) -> bool:
    try:
        return path.exists()
    except OSError:
        return False


def select_pairs(files: Sequence[str], model: str | None, declared: list[Pair]) -> list[Pair]:
    """The pairs to run: every declared one without ``files``; else the declared pairs of those files,
    and each other file with ``model`` (or the model its framework config names)."""
    if not files:
        return expand_scripts(declared)
    by_config: dict[str, list[Pair]] = {}
    for pair in declared:
        if pair.config:
            by_config.setdefault(_resolved(pair.config), []).append(pair)
    out: list[Pair] = []
    for file in files:
        matches = by_config.get(_resolved(file))
        out += matches if matches else [Pair(model=model, config=file, declared=False)]
    return expand_scripts(out)


def expand_scripts(pairs: Sequence[Pair]) -> list[Pair]:
    """One pair per config for a training script that builds several (read statically, as the audit will)."""
    out: list[Pair] = []
    for pair in pairs:
        places = script_configs(pair.config) if pair.config is not None and pair.select is None else []
        if len(places) > 1:
            out += [dataclasses.replace(pair, select=i, at=place) for i, place in enumerate(places)]
        else:
            out.append(pair)
    return out


def script_configs(config: str) -> list[str]:
    """Where each config of a training script is built (``line 42``); [] for a file that is not a script.

    Only a regular file is looked at: a pipe (``--config <(...)``) is read once, by the audit itself.
    """
    try:
        path = Path(config)
        if not path.is_file() or (kind_of(path) is None and path.suffix.lower() in (".json", ".yaml", ".yml")):
            return []
        loaded = load_config_file(config)
        if loaded.program is None:
            return []
        return [c.label for c in python_frontend.read_configs(loaded)]
    except (AuditError, OSError, ValueError):
        return []  # the audit itself reports why


def _resolved(path: str) -> str:
    try:
        return str(Path(path).resolve())
    except OSError:
        return path


def run_pairs(pairs: Sequence[Pair], settings: Settings, *, offline: bool | None = None, use_cache: bool = True,
              after: Callable[[PairResult], None] | None = None, trust_remote_code: bool = False,
              ) -> list[PairResult]:
    """Audit every pair in this process; a pair that cannot run is an error result, not the end of the run.

    ``trust_remote_code`` comes from the command line only (never from a settings file).
    """
    results = []
    for pair in pairs:
        if trust_remote_code:
            pair = dataclasses.replace(pair, trust_remote_code=True)
        result = PairResult(pair)
        try:
            result.report = _run_pair(pair, settings, offline, use_cache)
        except AuditError as exc:
            if not pair.declared and exc.code in NOT_A_LORA_CONFIG:
                result.skipped = exc.one_line()
            else:
                result.error = exc
        results.append(result)
        if after is not None:
            after(result)
    return results


def _run_pair(pair: Pair, settings: Settings, offline: bool | None, use_cache: bool) -> Report:
    request = AuditRequest(
        model=pair.model, config_file=pair.config, overrides=pair.overrides or None, revision=pair.revision,
        task_type=pair.task_type, model_class=pair.model_class, trust_remote_code=pair.trust_remote_code,
        offline=offline, settings=settings, config_select=pair.select, memory=pair.memory,
        quantization_request=pair.quantization,
    )
    adapter = _saved_adapter(pair.config)
    if adapter is not None:
        # A saved adapter: its adapter_config.json is the LoRA config, and names its base (unless given).
        return run_audit(request.with_changes(config_file=None, adapter=adapter), use_cache=use_cache)
    if pair.model is not None:
        return run_audit(request, use_cache=use_cache)
    try:
        # A framework config (axolotl, LLaMA-Factory, TRL) names its own base model.
        return run_audit(request, use_cache=use_cache)
    except AuditError as exc:
        if exc.code not in ("invalid-model", "model-missing"):
            raise
        raise AuditError(
            "no-model",
            f"{pair.config} names no model to audit it against",
            "pass --model MODEL, or declare the pair in [tool.lora-audit] audits = "
            '[{ model = "org/name", config = "..." }]',
        ) from None


def _saved_adapter(config: str | None) -> str | None:
    """The adapter a config path stands for: a saved adapter's directory, its adapter_config.json
    (beside adapter_model.safetensors or .bin), or the .safetensors file itself; else None."""
    if config is None:
        return None
    path = Path(config)
    folder = path if path.is_dir() else path.parent if path.name == "adapter_config.json" else None
    if folder is not None and any((folder / name).is_file()
                                  for name in ("adapter_model.safetensors", "adapter_model.bin")):
        return str(folder)
    if path.suffix == ".safetensors" and path.is_file():
        return str(path)
    return None
