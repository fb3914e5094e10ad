"""LA047 adapter-pickle: adapter weights in a pickle file, never unpickled, so never checked."""

from __future__ import annotations

from tests.factory import adapter, check, comparison, expect, one, report

CODE = "LA047"


def test_fires_on_a_pickle_file():
    pickle = adapter(format="pickle", file="adapter/adapter_model.bin", table=None, note="never unpickled")
    f = one(check(report(adapter=pickle), CODE))
    expect(f, CODE, "adapter/adapter_model.bin", "warning",
           "the adapter's weights are a pickle file: lora-audit never unpickles", hint="safetensors.torch.save_file")


def test_quiet_on_safetensors():
    assert check(report(adapter=adapter(compared=comparison())), CODE) == []
