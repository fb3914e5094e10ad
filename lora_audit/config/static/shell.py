"""The ``swift sft`` command of a shell script, split into its arguments with ``shlex`` (never run).

Line continuations are joined, the one line that runs ``swift sft|pt|rlhf`` is split as a POSIX shell
splits words, and ``--key value [value ...]`` / ``--key=value`` become ``{key: value}``. A value the
shell would expand (``$MODEL``, a backquote) is known only when the script runs: refused, not guessed.
"""

from __future__ import annotations

import re
import shlex
from typing import Any

from lora_audit.errors import AuditError

#: The key :func:`read_command` sets, so that detection knows the data came from ``swift sft``.
COMMAND_KEY = "__swift_command__"
#: Arguments that take several values (``nargs='+'``).
_LISTS = ("target_modules", "modules_to_save", "target_parameters")
_INTS = ("lora_rank", "lora_alpha", "quant_bits", "per_device_train_batch_size", "max_length")
_FLOATS = ("lora_dropout",)
_BOOLS = ("use_rslora", "use_dora", "gradient_checkpointing")
_COMMAND = re.compile(r"(?:^|[\s;&|(])swift\s+(sft|pt|rlhf)\s")


def read_command(text: str, where: str) -> dict[str, Any] | None:
    """The arguments of the one ``swift sft|pt|rlhf`` command in a shell script; None when it runs none."""
    joined = re.sub(r"\\\r?\n", " ", text)
    commands = [line for line in joined.splitlines() if _COMMAND.search(line + " ")]
    if not commands:
        return None
    if len(commands) > 1:
        raise AuditError("script-not-understood", f"{where} runs swift {len(commands)} times",
                         "give a script with one swift command, or pass the flags to lora-audit")
    line = commands[0]
    try:
        tokens = shlex.split(line, comments=True)
    except ValueError as exc:
        raise AuditError("script-invalid", f"{where}: the swift command cannot be split into words ({exc})",
                         "check its quotes") from None
    start = next(i for i in range(len(tokens) - 1) if tokens[i].endswith("swift") and tokens[i + 1] in
                 ("sft", "pt", "rlhf"))
    args: dict[str, Any] = {COMMAND_KEY: f"swift {tokens[start + 1]}"}
    key: str | None = None
    for token in tokens[start + 2:]:
        if token in ("|", "&&", ";", ">", "2>&1", "&"):
            break
        if token.startswith("--"):
            name, eq, value = token[2:].partition("=")
            key = name.replace("-", "_")
            args[key] = [] if not eq else [value]
            continue
        if key is None:
            continue
        if "$" in token or "`" in token:
            raise AuditError(
                "script-unresolved",
                f"{where}: swift --{key} {token}: the value is known only when the shell runs the script",
                "pass it to lora-audit as a flag, or write the value in the script",
            )
        args[key].append(token)
    return {k: _value(k, v) for k, v in args.items()}


def _value(key: str, values: Any) -> Any:
    if not isinstance(values, list):
        return values
    if key in _LISTS:
        return values
    if not values:
        return True  # a bare switch
    value = values[0] if len(values) == 1 else " ".join(values)
    try:
        if key in _INTS:
            return int(value)
        if key in _FLOATS:
            return float(value)
    except ValueError:
        return value
    if key in _BOOLS or value.lower() in ("true", "false"):
        return value.lower() == "true" if value.lower() in ("true", "false") else value
    return value


