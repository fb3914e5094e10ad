"""Module names and sizes for people: fold repeated blocks, group identical rows, suggest near misses.

Rules and renderers both write names this way, so a finding and the table beside it agree.
"""

from __future__ import annotations

import difflib
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence

_NUMBER = re.compile(r"(?<=\.)\d+(?=\.|$)|^\d+(?=\.|$)")


def template(name: str, placeholder: str = "*") -> str:
    """``model.layers.7.self_attn.q_proj`` -> ``model.layers.*.self_attn.q_proj``."""
    return _NUMBER.sub(placeholder, name)


def ranges(numbers: Iterable[int]) -> str:
    """``[0, 1, 2, 3, 7, 9, 10]`` -> ``0-3,7,9-10``."""
    values = sorted(set(numbers))
    parts: list[str] = []
    start: int | None = None
    prev = 0
    for v in values:
        if start is None:
            start = prev = v
        elif v == prev + 1:
            prev = v
        else:
            parts.append(f"{start}-{prev}" if prev != start else f"{start}")
            start = prev = v
    if start is not None:
        parts.append(f"{start}-{prev}" if prev != start else f"{start}")
    return ",".join(parts)


def indexed(container: str, indices: Iterable[int]) -> str:
    """``model.layers.(0-2,5)`` for several blocks, ``model.layers.3`` for one."""
    values = sorted(set(indices))
    return f"{container}.{values[0]}" if len(values) == 1 else f"{container}.({ranges(values)})"


def fold(names: Iterable[str]) -> list[str]:
    """Fold names that differ only in block indices, as PyTorch prints repeated blocks.

    >>> fold([f"model.layers.{i}.self_attn.q_proj" for i in range(24)])
    ['model.layers.(0-23).self_attn.q_proj']
    """
    groups: dict[str, list[tuple[int, ...]]] = defaultdict(list)
    order: list[str] = []
    for name in names:
        key = template(name, "{}")
        if key not in groups:
            order.append(key)
        groups[key].append(tuple(int(n) for n in _NUMBER.findall(name)))
    out: list[str] = []
    for key in order:
        out += _fold_group(key, sorted(set(groups[key])))
    return out


def _fold_group(key: str, indices: list[tuple[int, ...]]) -> list[str]:
    if not indices or not indices[0]:
        return [key]
    # Group by the trailing indices; the first index folds into a range for each group.
    by_rest: dict[tuple[int, ...], list[int]] = defaultdict(list)
    for idx in indices:
        by_rest[idx[1:]].append(idx[0])
    by_firsts: dict[tuple[int, ...], list[tuple[int, ...]]] = defaultdict(list)
    for rest, firsts in by_rest.items():
        by_firsts[tuple(firsts)].append(rest)
    out = []
    for first_indices, rests in by_firsts.items():
        first = _one(first_indices)
        partial = key.replace("{}", first, 1)
        if rests == [()]:
            out.append(partial)
        else:
            out += _fold_group(partial, sorted(rests))
    return out


def _one(values: Sequence[int]) -> str:
    return str(values[0]) if len(values) == 1 else f"({ranges(values)})"


def summarize(names: list[str], limit: int = 3) -> str:
    """Folded names joined for one table cell, with ``+N more`` past ``limit``."""
    folded = fold(names)
    if not folded:
        return "-"
    text = ", ".join(folded[:limit])
    if len(folded) > limit:
        text += f", +{len(folded) - limit} more"
    return text


def leaf(name: str) -> str:
    return name.rsplit(".", 1)[-1]


def did_you_mean(word: str, candidates: Iterable[str], n: int = 3) -> list[str]:
    """Close spellings of ``word`` among ``candidates`` (``embed_token`` -> ``embed_tokens``)."""
    pool = sorted({c for c in candidates if c and not c.isdigit()})
    tail = leaf(word)
    close = difflib.get_close_matches(word, pool, n=n, cutoff=0.75)
    if tail != word:
        close += [c for c in difflib.get_close_matches(tail, pool, n=n, cutoff=0.75) if c not in close]
    return close[:n]


def input_size(in_features: int, kernel_size: Sequence[int] | None = None) -> str:
    """A layer's k as written: ``896`` for a Linear, ``320×3×3`` for a convolution (c_in and its kernel)."""
    if kernel_size:
        return "×".join([f"{in_features:,}", *map(str, kernel_size)])
    return f"{in_features:,}"
