"""A trainer's command line in a shell script (``swift sft ...``, ``openrlhf.cli.train_sft ...``), split into
its arguments with ``shlex`` (never run).

Line continuations are joined, the one line that runs the trainer is split as a POSIX shell splits words
(a heredoc's body is lines like any other: OpenRLHF's examples keep the command in one and run it with
``deepspeed --module $training_commands``), and ``--key value [value ...]`` / ``--key=value`` become
``{key: value}``. A value the shell would expand (``$MODEL``, a backquote) is known only when the script
runs: refused, not guessed. Each trainer is a :class:`Command`: how its line is found, and the types
of its arguments as its own argument parser declares them.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from typing import Any

from lora_audit.errors import AuditError

#: The key :func:`read_command` sets to the command it read (``swift sft``, ``openrlhf.cli.train_sft``):
#: detection knows from it which trainer's command line the data is.
COMMAND_KEY = "__command__"


@dataclass(frozen=True)
class Command:
    """A trainer's command: the pattern that finds its line (group 1: the command's own name) and its types."""

    label: str
    pattern: re.Pattern[str]
    lists: tuple[str, ...] = ()  #: arguments that take several values (argparse ``nargs``)
    ints: tuple[str, ...] = ()
    floats: tuple[str, ...] = ()
    bools: tuple[str, ...] = ()
    #: the name written in COMMAND_KEY: ``swift {sub}``, or the module path
    name: str = "{0}"


SWIFT = Command(
    label="swift",
    pattern=re.compile(r"(?:^|[\s;&|(])swift\s+(sft|pt|rlhf)\s"),
    lists=("target_modules", "modules_to_save", "target_parameters"),
    ints=("lora_rank", "lora_alpha", "quant_bits", "per_device_train_batch_size", "max_length"),
    floats=("lora_dropout",),
    bools=("use_rslora", "use_dora", "gradient_checkpointing"),
    name="swift {0}",
)
#: OpenRLHF's CLI modules (``python -m openrlhf.cli.train_sft``, ``deepspeed --module openrlhf.cli.train_sft``),
#: with the argument names of OpenRLHF 3c3be623 (dotted, since ed62d0e2) and of the releases before.
OPENRLHF = Command(
    label="openrlhf",
    pattern=re.compile(r"(?:^|[\s;&|(])(openrlhf\.cli\.\w+)(?=\s|$)"),
    lists=("ds.lora.target_modules", "target_modules"),
    ints=("ds.lora.rank", "ds.lora.alpha", "lora_rank", "lora_alpha", "train.micro_batch_size",
          "micro_train_batch_size", "data.max_len", "max_len"),
    floats=("ds.lora.dropout", "lora_dropout"),
    bools=("ds.load_in_4bit", "load_in_4bit", "model.gradient_checkpointing_enable", "gradient_checkpointing"),
)
COMMANDS = (SWIFT, OPENRLHF)
_ENDS = ("|", "&&", ";", ">", "2>&1", "&")


def read_command(text: str, where: str) -> dict[str, Any] | None:
    """The arguments of the one trainer command a shell script runs; None when it runs none lora-audit reads."""
    joined = re.sub(r"\\\r?\n", " ", text)
    for command in COMMANDS:
        lines = [line for line in joined.splitlines() if command.pattern.search(line + " ")]
        if not lines:
            continue
        if len(lines) > 1:
            raise AuditError("script-not-understood", f"{where} runs {command.label} {len(lines)} times",
                             f"give a script with one {command.label} command, or pass the flags to lora-audit")
        return _arguments(command, lines[0], where)
    return None


def _arguments(command: Command, line: str, where: str) -> dict[str, Any]:
    try:
        tokens = shlex.split(line, comments=True)
    except ValueError as exc:
        raise AuditError("script-invalid", f"{where}: the {command.label} command cannot be split into words ({exc})",
                         "check its quotes") from None
    found = command.pattern.search(line + " ")
    assert found is not None
    own = found.group(1)
    start = next(i for i, token in enumerate(tokens) if token == own or token.endswith(own))
    name = command.name.format(own)
    if command is SWIFT:  # "swift" and "sft" are two words
        start = next(i for i in range(len(tokens) - 1) if tokens[i].endswith("swift") and tokens[i + 1] == own)
        start += 1
    args: dict[str, Any] = {COMMAND_KEY: name}
    key: str | None = None
    for token in tokens[start + 1:]:
        if token in _ENDS:
            break
        if token.startswith("--"):
            flag, eq, value = token[2:].partition("=")
            key = flag.replace("-", "_")
            args[key] = [] if not eq else [value]
            continue
        if key is None:
            continue
        if "$" in token or "`" in token:
            raise AuditError(
                "script-unresolved",
                f"{where}: {name} --{key} {token}: the value is known only when the shell runs the script",
                "pass it to lora-audit as a flag, or write the value in the script",
            )
        args[key].append(token)
    return {k: _value(command, k, v) for k, v in args.items()}


def _value(command: Command, key: str, values: Any) -> Any:
    if not isinstance(values, list):
        return values
    if key in command.lists:
        return values
    if not values:
        return True  # a bare switch
    value = values[0] if len(values) == 1 else " ".join(values)
    try:
        if key in command.ints:
            return int(value)
        if key in command.floats:
            return float(value)
    except ValueError:
        return value
    if key in command.bools or value.lower() in ("true", "false"):
        return value.lower() == "true" if value.lower() in ("true", "false") else value
    return value
