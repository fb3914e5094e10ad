"""Read a safetensors file's tensor table from its header alone, never its tensor data.

The safetensors format (https://huggingface.co/docs/safetensors, "Format"): 8 bytes, a
little-endian unsigned 64-bit length N, then N bytes of JSON mapping each tensor name to
``{"dtype", "shape", "data_offsets"}`` (plus an optional ``__metadata__`` of strings), then the
data. Only the first ``8 + N`` bytes are read here, so a file whose data section is truncated or
garbage still yields its table. The ``safetensors`` library's ``safe_open`` would check the data
section against the header and map the whole file; a hub file is read with
``HfApi.parse_safetensors_file_metadata`` (two range requests at most, the header only).
"""

from __future__ import annotations

import json
import math
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lora_audit.errors import AuditError
from lora_audit.guards.files import describe, open_regular_binary

#: The safetensors library refuses headers above 100 MB (``MAX_HEADER_SIZE`` in safetensors 0.4+);
#: an adapter's header is a few hundred kilobytes even for a 405B model.
MAX_HEADER_BYTES = 100_000_000
#: Bytes per element of each safetensors dtype (sub-byte float types round up; only sizes are reported).
DTYPE_BYTES = {
    "BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1, "F8_E8M0": 1, "F4": 1, "F6_E2M3": 1, "F6_E3M2": 1,
    "I16": 2, "U16": 2, "F16": 2, "BF16": 2,
    "I32": 4, "U32": 4, "F32": 4,
    "I64": 8, "U64": 8, "F64": 8, "C64": 8,
}
#: The exact width of the sub-byte dtypes (their tensors' byte spans are ``elements * bits / 8``).
DTYPE_BITS = {"F4": 4, "F6_E2M3": 6, "F6_E3M2": 6}


@dataclass
class TensorTable:
    """A safetensors file's header: tensor name -> (dtype, shape), and what the file holds."""

    tensors: dict[str, tuple[str, list[int]]]
    header_bytes: int  #: N, the JSON header's length
    metadata: dict[str, str] = field(default_factory=dict)
    #: bytes the header says the data section holds
    data_bytes: int = 0
    #: the file's size on disk (None for a hub file: only its header was fetched)
    file_bytes: int | None = None

    @property
    def truncated(self) -> bool:
        """The file is shorter than its header says (never a problem here: the data is not read)."""
        return self.file_bytes is not None and self.file_bytes < 8 + self.header_bytes + self.data_bytes


def read_local_header(path: Path) -> TensorTable:
    """The tensor table of a local safetensors file, reading its first ``8 + N`` bytes only."""
    try:
        with open_regular_binary(path) as handle:
            prefix = handle.read(8)
            if len(prefix) < 8:
                raise _bad(path, "it is shorter than the 8-byte header length")
            (length,) = struct.unpack("<Q", prefix)
            if length > MAX_HEADER_BYTES:
                raise _bad(path, f"its header claims {length:,} bytes (safetensors allows {MAX_HEADER_BYTES:,})")
            raw = handle.read(length)
            size = handle.seek(0, 2)
    except OSError as exc:
        raise AuditError(
            "adapter-unreadable", f"cannot read {path}: {describe(exc)}",
            "pass the adapter's .safetensors file (a regular file) and check its permissions",
        ) from None
    if len(raw) < length:
        raise _bad(path, f"the file ends inside its {length:,}-byte header")
    table = parse_header(raw, str(path))
    table.file_bytes = size
    return table


def parse_header(raw: bytes, where: str) -> TensorTable:
    """Validate a safetensors JSON header (bytes after the length prefix) into a :class:`TensorTable`."""
    try:
        data = json.loads(raw.decode("utf-8"), object_pairs_hook=_unique_keys)
    except _DuplicateKey as exc:
        raise _bad(where, f"its header names the tensor {str(exc)[:80]!r} twice") from None
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise _bad(where, "its header is not JSON") from None
    return table_from_dict(data, where, len(raw))


class _DuplicateKey(ValueError):
    pass


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


def table_from_dict(data: Any, where: str, header_bytes: int) -> TensorTable:
    """The tensor table of a parsed header, validated as safetensors' own loader validates it.

    What ``safetensors.safe_open`` (0.8.0, the reference the tests compare with) refuses is refused here,
    except the length of the data section, which is left to LA046 (a truncated file is a finding):
    every tensor has a known dtype, a shape of non-negative dimensions whose product fits in int64, and
    ``data_offsets`` ``[start, end]`` with ``end - start`` its exact size in bytes; sorted by start, the
    tensors tile the data section from 0 with no gap and no overlap. ``__metadata__`` maps strings to
    strings.
    """
    if not isinstance(data, dict):
        raise _bad(where, "its header is not a JSON object")
    tensors: dict[str, tuple[str, list[int]]] = {}
    metadata: dict[str, str] = {}
    spans: list[tuple[int, int, str]] = []
    for name, entry in data.items():
        if name == "__metadata__":
            if not isinstance(entry, dict) or not all(isinstance(v, str) for v in entry.values()):
                raise _bad(where, "its __metadata__ is not a map of strings to strings")
            metadata = {str(k): v for k, v in entry.items()}
            continue
        if not isinstance(entry, dict):
            raise _bad(where, f"tensor {name!r} has no dtype/shape entry")
        dtype, shape, offsets = entry.get("dtype"), entry.get("shape"), entry.get("data_offsets")
        if not isinstance(dtype, str) or dtype not in DTYPE_BYTES:
            raise _bad(where, f"tensor {name!r} has an unknown dtype {str(dtype)[:20]!r}")
        if not isinstance(shape, list) or not all(_natural(d) for d in shape) or len(shape) > 8:
            raise _bad(where, f"tensor {name!r} has an invalid shape")
        elements = math.prod(shape)
        if elements >= 1 << 63:
            raise _bad(where, f"tensor {name!r} has more elements than int64 can count")
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(_natural(o) for o in offsets)
                and offsets[0] <= offsets[1]):
            raise _bad(where, f"tensor {name!r} has invalid data_offsets (want [start, end], 0 <= start <= end)")
        bits = elements * DTYPE_BITS.get(dtype, 8 * DTYPE_BYTES[dtype])
        if bits % 8 or offsets[1] - offsets[0] != bits // 8:
            raise _bad(where, f"tensor {name!r} spans {offsets[1] - offsets[0]:,} bytes, but its dtype and shape "
                              f"need {bits / 8:,g}")
        spans.append((offsets[0], offsets[1], name))
        tensors[name] = (dtype, list(shape))
    end = 0
    for start, stop, name in sorted(spans):
        if start != end:
            raise _bad(where, f"tensor {name!r} starts at byte {start:,} of the data, where {end:,} was expected "
                              "(the tensors must follow one another with no gap or overlap)")
        end = stop
    return TensorTable(tensors=tensors, header_bytes=header_bytes, metadata=metadata, data_bytes=end)


def tensor_bytes(dtype: str, shape: list[int]) -> int:
    return DTYPE_BYTES.get(dtype, 0) * math.prod(shape)


def _natural(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 1 << 62


def _bad(where: Any, why: str) -> AuditError:
    return AuditError(
        "adapter-malformed",
        f"{where} is not a valid safetensors file: {why}",
        "save the adapter again with PEFT's save_pretrained (safe_serialization=True)",
    )
