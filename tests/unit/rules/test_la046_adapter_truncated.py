"""LA046 adapter-truncated: a safetensors file shorter than its header says (it will not load)."""

from __future__ import annotations

from tests.factory import adapter, check, comparison, expect, one, report, tensors

CODE = "LA046"


def test_fires_on_a_cut_off_file():
    cut = tensors(file_bytes=1_108, header_bytes=1_000, data_bytes=3_096, truncated=True)
    f = one(check(report(adapter=adapter(compared=comparison(), table=cut)), CODE))
    expect(f, CODE, "adapter/adapter_model.safetensors", "error",
           "100 of 3,096 data bytes are on disk: the file is truncated and will not load",
           hint="copy or download the adapter again")


def test_quiet_on_a_whole_file_and_on_a_hub_header():
    assert check(report(adapter=adapter(compared=comparison())), CODE) == []
    hub = tensors(file_bytes=None)
    assert check(report(adapter=adapter(compared=comparison(), source="hub", table=hub)), CODE) == []
