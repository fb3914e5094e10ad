"""Numbers read from any input, checked for range before anything uses or prints them.

Python integers have no size limit, but everything downstream does: ``str()`` refuses more than
4,300 digits, ``float()`` overflows past 1e308, and torch cannot describe a dimension past 2**63.
A config value like ``lora_alpha: 0xfff...f`` (YAML reads hex without the digit limit) would
otherwise crash the validation or the report halfway. :func:`check_numbers` walks parsed data
once, without recursion, and refuses such a value naming its field.
"""

from __future__ import annotations

import math
import sys
from typing import Any

from lora_audit.errors import AuditError

#: No size, count or index in a model or LoRA config can exceed what torch can describe.
MAX_INT = 2**63 - 1
#: The smallest scaling PEFT can apply and the report can divide by: alpha/r must stay a normal float.
MIN_NORMAL = sys.float_info.min


def describe(value: Any) -> str:
    """A short, always printable form of a number (a 5,000-digit integer cannot be ``str()``-ed)."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_INT:
        return f"a {value.bit_length()}-bit integer"
    if isinstance(value, float) and math.isfinite(value):
        return repr(value)
    return str(value)[:40]


def too_big(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_INT


def find_huge(data: Any) -> tuple[str, Any] | None:
    """The dotted path and value of the first integer in ``data`` beyond :data:`MAX_INT`, or None."""
    seen: set[int] = set()
    pending: list[tuple[str, Any]] = [("", data)]
    while pending:
        where, item = pending.pop()
        if too_big(item):
            return where or "the value", item
        if isinstance(item, (dict, list, tuple, set, frozenset)):
            if id(item) in seen:  # YAML aliases share one list many times over: once is enough
                continue
            seen.add(id(item))
            if isinstance(item, dict):
                for key, value in item.items():
                    if too_big(key):
                        return f"{where}[key]" if where else "a key", key
                    pending.append((f"{where}.{key}" if where else str(key), value))
            else:
                pending += [(f"{where}[{i}]", value) for i, value in enumerate(item)]
    return None


def check_numbers(data: Any, where: str, code: str) -> None:
    """Refuse ``data`` if any integer in it is beyond :data:`MAX_INT`, naming the field."""
    found = find_huge(data)
    if found is not None:
        field, value = found
        raise AuditError(
            code,
            f"{where}: {field} is {describe(value)}, beyond any size, count or setting a model can have",
            "fix the value (a typo, or a file that is not a config)",
        )
