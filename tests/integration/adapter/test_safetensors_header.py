"""safetensors headers are validated as safetensors' own loader validates them (issue 16, item 5).

Each mutation of a real file's header is given to ``safetensors.safe_open`` (the reference) and to
lora-audit's header reader: both refuse it, with lora-audit's one-line ``adapter-malformed`` naming the
tensor, or both accept it.
"""

from __future__ import annotations

import json
import struct

import pytest
import torch

from lora_audit.adapter.header import read_local_header
from lora_audit.errors import AuditError

safetensors_torch = pytest.importorskip("safetensors.torch")
safe_open = pytest.importorskip("safetensors").safe_open


@pytest.fixture(scope="module")
def original(tmp_path_factory):
    path = tmp_path_factory.mktemp("st") / "adapter_model.safetensors"
    safetensors_torch.save_file({"a.lora_A.weight": torch.zeros(4, 8), "a.lora_B.weight": torch.zeros(8, 4),
                                 "b.lora_A.weight": torch.zeros(2, 8, dtype=torch.bfloat16)}, str(path))
    raw = path.read_bytes()
    (length,) = struct.unpack("<Q", raw[:8])
    return json.loads(raw[8:8 + length]), raw[8 + length:]


def _write(path, header_text: str, data: bytes):
    raw = header_text.encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + data)
    return path


def _mutated(header, change):
    header = json.loads(json.dumps(header))
    change(header)
    return json.dumps(header)


def _offsets(name, start, end):
    return lambda h: h[name].update(data_offsets=[start, end])


MUTATIONS = {
    "unchanged": lambda h: None,
    "gap-between-tensors": lambda h: [h[k].update(data_offsets=[h[k]["data_offsets"][0] + 4,
                                                               h[k]["data_offsets"][1] + 4])
                                      for k in h if k != "__metadata__" and h[k]["data_offsets"][0] > 0],
    "overlap": lambda h: h["a.lora_B.weight"].update(data_offsets=h["a.lora_A.weight"]["data_offsets"]),
    "size-does-not-match-shape": lambda h: h["a.lora_A.weight"].update(shape=[4, 9]),
    "unknown-dtype": lambda h: h["a.lora_A.weight"].update(dtype="F128"),
    "negative-dimension": lambda h: h["a.lora_A.weight"].update(shape=[-4, -8]),
    "start-after-end": lambda h: h["b.lora_A.weight"].update(data_offsets=[
        h["b.lora_A.weight"]["data_offsets"][1], h["b.lora_A.weight"]["data_offsets"][0]]),
    "metadata-not-strings": lambda h: h.update({"__metadata__": {"format": 1}}),
    "no-offsets": lambda h: h["a.lora_A.weight"].pop("data_offsets"),
    "dims-overflow-int64": lambda h: h["a.lora_A.weight"].update(shape=[1 << 40, 1 << 40]),
    # found by tests/integration/test_fuzz_surfaces.py: a list as the dtype was a TypeError (unhashable)
    "dtype-is-a-list": lambda h: h["a.lora_A.weight"].update(dtype=["F32"]),
}


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_refused_exactly_when_safetensors_refuses(original, tmp_path, name):
    header, data = original
    path = _write(tmp_path / "x.safetensors", _mutated(header, MUTATIONS[name]), data)
    try:
        with safe_open(str(path), framework="pt") as handle:
            list(handle.keys())
        reference_ok = True
    except Exception:  # noqa: BLE001 - whatever safetensors raises is a refusal
        reference_ok = False
    try:
        table = read_local_header(path)
        ours_ok = True
    except AuditError as exc:
        assert exc.code == "adapter-malformed" and "\n" not in exc.one_line()
        ours_ok = False
    assert ours_ok == reference_ok, (name, reference_ok)
    if ours_ok:
        assert set(table.tensors) == set(header) - {"__metadata__"}


def test_a_key_given_twice_is_refused_naming_it(original, tmp_path):
    header, data = original
    text = json.dumps(header)
    entry = json.dumps(header["a.lora_A.weight"])
    text = text[:-1] + f', "a.lora_A.weight": {entry}}}'
    with pytest.raises(AuditError) as info:
        read_local_header(_write(tmp_path / "dup.safetensors", text, data))
    assert info.value.code == "adapter-malformed" and "a.lora_A.weight" in info.value.message


def test_the_error_names_the_tensor(original, tmp_path):
    header, data = original
    path = _write(tmp_path / "x.safetensors", _mutated(header, MUTATIONS["size-does-not-match-shape"]), data)
    with pytest.raises(AuditError) as info:
        read_local_header(path)
    assert "a.lora_A.weight" in info.value.message
