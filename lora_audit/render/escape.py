"""Text from inputs, made safe to print: the one place each output format's escaping lives."""

from __future__ import annotations

import re

_SURROGATE = re.compile("[\ud800-\udfff]")


def escape_surrogates(text: str) -> str:
    """``text`` with every lone surrogate written as ``\\udXXX``: encodable in UTF-8, and visible."""
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
