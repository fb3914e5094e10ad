"""``lora-audit MODEL`` (the ``audit`` command) and ``lora-audit adapter PATH``: one audit, one report."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from lora_audit.cli import common, interrupts
from lora_audit.cli.batch import CheckReport, Pair, run_audit, script_configs
from lora_audit.cli.options import csv_list, offline_option, report_options
from lora_audit.cli.output import resolve_format
from lora_audit.config import other_trainers
from lora_audit.config.loading import ADAPTER_CONFIG_NAME
from lora_audit.config.lora_config import TASK_TYPES, parse_layers, parse_list, parse_pattern, parse_set
from lora_audit.config.static.sources import SCRIPT_SUFFIXES
from lora_audit.errors import AuditError
from lora_audit.guards.files import read_regular_text
from lora_audit.measure.quantization.flags import from_flags as quantization_flags
from lora_audit.model.source import MAX_CONFIG_BYTES
from lora_audit.request import AuditRequest, MemoryRequest
from lora_audit.rules.settings import load_settings

EPILOG = """\b
Examples:
  lora-audit Qwen/Qwen2.5-0.5B --targets q_proj,v_proj
  lora-audit ./my-model --config lora.yaml --format json --json audit.json
  lora-audit meta-llama/Meta-Llama-3-8B --targets all-linear -r 16 --alpha 32 --tree
  lora-audit train.py                  the LoraConfig a training script (.py, .ipynb, .md) builds, read statically
  lora-audit meta-llama/Meta-Llama-3-8B --targets all-linear --memory --seq-len 2048 --batch 1 --gpu RTX4090
  lora-audit Qwen/Qwen2.5-0.5B --adapter ./my-adapter     check a saved adapter's keys and shapes
  lora-audit adapter org/my-lora    the same, against its base_model_name_or_path
  lora-audit diff ./adapter-v1 ./adapter-v2                compare two adapters or LoRA configs
  lora-audit check              audit every pair in [tool.lora-audit] audits, in one process
  lora-audit rules              list every rule;  lora-audit rules LA003  explains one
  lora-audit --version

\b
Exit codes: 0 ok; 1 a finding at or above --fail-on; 2 bad input; 130 interrupted.
"""


@click.command("audit", epilog=EPILOG, context_settings={"max_content_width": 100})
@click.argument("model", metavar="[MODEL]", required=False)
@click.option("--adapter", metavar="PATH|HUB_ID",
              help="Check a saved adapter (directory, .safetensors file or hub id) against MODEL, from its header.")
@click.option("--revision", help="Hub revision (branch, tag or commit) of MODEL.")
@click.option("--assume-base", metavar="ID",
              help="Build this model's config instead of MODEL's (a re-upload the catalogue lacks); "
                   "the report says so.")
@offline_option
@click.option("--trust-remote-code", is_flag=True, help="Allow running the model repository's own code.")
@click.option("--task-type", type=click.Choice(TASK_TYPES, case_sensitive=False), metavar="TYPE",
              help="PEFT task type (" + ", ".join(TASK_TYPES) + "); also picks the model head.")
@click.option("--model-class", help="transformers class to build, e.g. LlamaForSequenceClassification.")
@click.option("--component", metavar="NAME",
              help="For a diffusers pipeline: the component to audit (unet, transformer, text_encoder...). "
                   "Default: the denoiser.")
@click.option("--config", "config_file", metavar="FILE",
              help="LoRA config: JSON/YAML of LoraConfig fields, adapter_config.json, or its directory.")
@click.option("--targets", metavar="A,B,...", help="target_modules: names, or all-linear. Default: PEFT's.")
@click.option("--target-regex", metavar="REGEX", help="target_modules as one regex (full match on module names).")
@click.option("--target-parameters", callback=csv_list, metavar="A,B,...",
              help="target_parameters, e.g. mlp.experts.gate_up_proj (fused MoE experts).")
@click.option("--method", metavar="NAME",
              help="PEFT method: lora (default), loha, lokr, ia3, oft, vera, adalora, prefix_tuning... (any the "
                   "installed PEFT has).")
@click.option("--set", "set_fields", multiple=True, metavar="KEY=VALUE",
              help="Any field of the method's config; VALUE is read as YAML (--set alpha=16, "
                   "--set feedforward_modules=[down_proj]).")
@click.option("-r", "--rank", type=int, help="LoRA rank r.")
@click.option("--alpha", type=float, help="lora_alpha.")
@click.option("--dropout", type=float, help="lora_dropout.")
@click.option("--bias", type=click.Choice(("none", "all", "lora_only")), help="Which biases train.")
@click.option("--modules-to-save", callback=csv_list, metavar="A,B,...", help="Modules trained and saved in full.")
@click.option("--exclude-modules", callback=csv_list, metavar="A,B,...", help="Modules never adapted.")
@click.option("--layers", metavar="0-11,20", help="layers_to_transform: layer indices and ranges.")
@click.option("--layers-pattern", callback=csv_list, metavar="NAME", help="Layer container name, e.g. layers or h.")
@click.option("--rank-pattern", metavar="P=R,...", help="Per-module ranks, e.g. q_proj=32,v_proj=16.")
@click.option("--alpha-pattern", metavar="P=A,...", help="Per-module alphas, e.g. q_proj=64.")
@click.option("--dora", is_flag=True, default=None, help="use_dora: weight-decomposed LoRA.")
@click.option("--rslora", is_flag=True, default=None, help="use_rslora: scale by alpha/sqrt(r).")
@click.option("--fan-in-fan-out", is_flag=True, default=None, help="fan_in_fan_out (GPT-2 style Conv1D).")
@click.option("--load-in-4bit", is_flag=True,
              help="The base is loaded in 4-bit with bitsandbytes for training (QLoRA), as "
                   "from_pretrained(load_in_4bit=True).")
@click.option("--load-in-8bit", is_flag=True, help="The base is loaded in 8-bit with bitsandbytes for training.")
@click.option("--quantization", metavar="METHOD[:BITS]",
              help="The quantization training loads the base with: bitsandbytes:4, bitsandbytes:8, hqq:4, "
                   "torchao, gptq:4...")
@report_options("the JSON report")
@click.option("--tree", is_flag=True, help="Print the module tree with what PEFT wrapped.")
@click.option("--coverage", is_flag=True, help="Print which repeated blocks each target entry reaches.")
@click.option("--memory", is_flag=True,
              help="Estimate the peak memory of one training step (run on fake tensors); see --batch, --seq-len.")
@click.option("--batch", type=int, metavar="N", help="--memory: per-device micro-batch (default: the file's, else 8).")
@click.option("--seq-len", type=int, metavar="N", help="--memory: tokens per sequence (default: the file's).")
@click.option("--gradient-checkpointing", type=click.Choice(("off", "reentrant", "non-reentrant")),
              help="--memory: activation checkpointing (default: the file's, else off).")
@click.option("--precision", type=click.Choice(("bf16", "fp16", "fp32", "bf16-autocast")),
              help="--memory: weights and autocast (default: the file's, else fp32).")
@click.option("--optimizer", type=click.Choice(("adamw_torch", "adamw_torch_fused", "adamw_8bit", "sgd")),
              help="--memory: the HF Trainer's optim (default: the file's, else adamw_torch_fused).")
@click.option("--attention", type=click.Choice(("sdpa", "eager", "flash_attention_2")),
              help="--memory: attention kernel (default sdpa; flash_attention_2 is modelled as sdpa).")
@click.option("--gpu", "gpus", multiple=True, metavar="CARD",
              help="--memory: a card to check (RTX4090, A100-80GB, H100, 24GB...); repeat for several.")
@click.option("--timeout", type=float, metavar="SECONDS",
              help="Budget for building and applying (default 300, or $LORA_AUDIT_TIMEOUT); past it, exit 2.")
@click.option("--debug", is_flag=True, help="On an internal error, print the traceback.")
def audit_command(**opts: Any) -> None:
    """Audit a LoRA config against MODEL, weightlessly.

    MODEL is a hub id (Qwen/Qwen2.5-0.5B), a model directory, or a config.json. Only config.json
    is read or downloaded, never weights; popular models are bundled for offline use. Without
    MODEL, the model the config file names is used: lora-audit axolotl.yml, or
    lora-audit --config ./adapter.
    """
    sys.exit(_run_audit(opts))


@click.command("adapter", context_settings={"max_content_width": 100})
@click.argument("adapter", metavar="PATH|HUB_ID")
def adapter_command(**opts: Any) -> None:
    """Audit a saved adapter against the base its adapter_config.json names (or MODEL via --base).

    Reads adapter_config.json and the safetensors header only, never tensor data or pickles.
    """
    opts["model"] = opts.pop("base", None)
    sys.exit(_run_audit(opts))


adapter_command.params += [click.Option(["--base"], metavar="MODEL", help="The base model (default: the adapter's "
                                        "base_model_name_or_path).")]
adapter_command.params += [p for p in audit_command.params if p.name not in ("model", "adapter")]


def _run_audit(opts: dict[str, Any]) -> int:
    fmt, json_path = resolve_format(opts["fmt"]), opts["json_path"]
    try:
        if json_path is not None and not json_path.strip():
            raise AuditError("usage", "--json was given an empty path", "name the file, e.g. --json audit.json")
        problem = common.json_path_problem(json_path, common.ARGS) if json_path else None
        if problem is not None:
            raise problem

        settings = load_settings().merged(common.rule_codes(opts["select"], "--select"),
                                          common.ignore_keys(opts["ignore"]), opts["fail_on"])
        overrides = _overrides(opts)
        model, config_file = _model_and_config(opts["model"], opts["config_file"], opts.get("adapter"))
        baseline = common.read_baseline(opts["baseline"])
        places = script_configs(config_file) if config_file is not None and opts.get("adapter") is None else []
        if config_file is not None and len(places) > 1:
            # A script that builds several configs: one audit each, reported together as check reports pairs.
            return _run_script_audits(opts, model, config_file, places, overrides, settings, baseline, fmt,
                                      json_path)
        with common.status(fmt) as status:
            request = AuditRequest(
                model=model,
                adapter=opts.get("adapter"),
                config_file=config_file,
                overrides=overrides,
                revision=opts["revision"],
                model_class=opts["model_class"],
                trust_remote_code=opts["trust_remote_code"],
                offline=opts["offline"],
                component=opts["component"],
                settings=settings,
                status=status,
                timeout=opts["timeout"],
                memory=_memory_request(opts),
                assume_base=opts.get("assume_base"),
                quantization_request=quantization_flags(opts.get("load_in_4bit"), opts.get("load_in_8bit"),
                                                        opts.get("quantization")),
            )
            report = run_audit(request, use_cache=not opts["no_cache"])
        common.finish([report], baseline, opts["baseline"], opts["write_baseline"])
        common.emit(report, fmt, json_path, opts["tree"], opts["coverage"])
    except AuditError as exc:
        if interrupts.interrupted(exc):
            # A Ctrl-C that a library turned into an error we then reported as bad input.
            raise KeyboardInterrupt from exc
        common.fail(exc, fmt, json_path)
    return report.exit_code


def _run_script_audits(opts: dict[str, Any], model: str | None, config_file: str, places: list[str],
                       overrides: dict[str, Any], settings: Any, baseline: Any, fmt: str,
                       json_path: str | None) -> int:
    fields = {k: v for k, v in overrides.items() if v is not None and k != "task_type"}
    task = overrides.get("task_type")
    memory = _memory_request(opts)
    quantization = quantization_flags(opts.get("load_in_4bit"), opts.get("load_in_8bit"), opts.get("quantization"))
    pairs = [Pair(model=model, config=config_file, revision=opts["revision"], task_type=task,
                  model_class=opts["model_class"], trust_remote_code=opts["trust_remote_code"], overrides=fields,
                  select=i, at=place, memory=memory, quantization=quantization) for i, place in enumerate(places)]
    check = CheckReport(common.audit_pairs(pairs, settings, fmt, offline=opts["offline"],
                                           use_cache=not opts["no_cache"]))
    common.finish(check.reports, baseline, opts["baseline"], opts["write_baseline"])
    common.emit(check, fmt, json_path)
    common.echo_pair_errors(check)
    return check.exit_code


def _model_and_config(model: str | None, config_file: str | None,
                      adapter: str | None) -> tuple[str | None, str | None]:
    """``lora-audit axolotl.yml``: a lone argument that is a LoRA / framework config file is the config."""
    if model is not None and config_file is None and adapter is None and _is_config_file(model):
        return None, model
    if model is None and config_file is None and adapter is None:
        raise AuditError("model-missing", "no model given",
                         "pass MODEL (a hub id such as Qwen/Qwen2.5-0.5B, or a path), a config file, or --adapter PATH")
    return model, config_file


def _is_config_file(arg: str) -> bool:
    try:
        path = Path(arg).expanduser()
        if path.is_dir():
            return (path / ADAPTER_CONFIG_NAME).is_file() and not (path / "config.json").is_file()
        if not path.is_file():
            return False
        suffixes = (".yml", ".yaml", ".sh", ".bash", *SCRIPT_SUFFIXES)
        if path.suffix.lower() in suffixes or path.name == ADAPTER_CONFIG_NAME:
            return True
        return path.suffix.lower() == ".json" and _another_trainers_json(path)
    except (OSError, ValueError, RuntimeError):  # RuntimeError: ~ with no home directory
        return False


#: The options that only --memory reads.
MEMORY_OPTIONS = ("batch", "seq_len", "gradient_checkpointing", "precision", "optimizer", "attention", "gpus")


def _memory_request(opts: dict[str, Any]) -> MemoryRequest | None:
    given = [name for name in MEMORY_OPTIONS if opts.get(name)]
    if not opts.get("memory"):
        if given:
            flag = "--" + given[0].replace("_", "-").removesuffix("s")
            raise AuditError("usage", f"{flag} is an input of the memory estimate", "add --memory")
        return None
    return MemoryRequest(batch=opts["batch"], seq_len=opts["seq_len"],
                         gradient_checkpointing=opts["gradient_checkpointing"], precision=opts["precision"],
                         optimizer=opts["optimizer"], attention=opts["attention"], gpus=tuple(opts["gpus"]))


def _another_trainers_json(path: Path) -> bool:
    """A lone ``.json`` that is a training framework's config (SimpleTuner's config.json), not a model's."""
    try:
        data = json.loads(read_regular_text(path, MAX_CONFIG_BYTES))
    except (AuditError, OSError, ValueError, RecursionError):
        return False
    return isinstance(data, dict) and other_trainers.identify(data) is not None


def _overrides(opts: dict[str, Any]) -> dict[str, Any]:
    if opts["targets"] is not None and opts["target_regex"] is not None:
        raise AuditError("usage", "--targets and --target-regex both set target_modules", "use one of them")
    targets: Any = None
    # `is not None`: an empty --targets "" is a mistake to report, not a request for PEFT's defaults.
    if opts["targets"] is not None:
        targets = parse_list(opts["targets"], "--targets")
        if len(targets) == 1 and targets[0].lower() == "all-linear":
            targets = "all-linear"
    elif opts["target_regex"] is not None:
        targets = opts["target_regex"]
    layers_pattern = opts["layers_pattern"]
    out: dict[str, Any] = {
        "target_modules": targets,
        "target_parameters": opts["target_parameters"],
        "r": opts["rank"],
        "lora_alpha": opts["alpha"],
        "lora_dropout": opts["dropout"],
        "bias": opts["bias"],
        "modules_to_save": opts["modules_to_save"],
        "exclude_modules": opts["exclude_modules"],
        "layers_to_transform": parse_layers(opts["layers"]) if opts["layers"] else None,
        "layers_pattern": layers_pattern[0] if layers_pattern and len(layers_pattern) == 1 else layers_pattern,
        "rank_pattern": parse_pattern(opts["rank_pattern"], "--rank-pattern", True) if opts["rank_pattern"] else None,
        "alpha_pattern": (
            parse_pattern(opts["alpha_pattern"], "--alpha-pattern", False) if opts["alpha_pattern"] else None
        ),
        "use_dora": opts["dora"],
        "use_rslora": opts["rslora"],
        "fan_in_fan_out": opts["fan_in_fan_out"],
        "task_type": opts["task_type"].upper() if opts["task_type"] else None,
    }
    if opts["method"] is not None:
        out["peft_type"] = opts["method"]
    for key, value in parse_set(opts["set_fields"]).items():
        if out.get(key) is not None:
            raise AuditError("usage", f"--set {key}=... and another flag both set {key}", "use one of them")
        out[key] = value
    return out


