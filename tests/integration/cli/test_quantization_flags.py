"""--load-in-4bit, --load-in-8bit, --quantization METHOD[:BITS]: a script's from_pretrained(load_in_4bit=True) as flags.

Each is the request a framework file makes, so the report's quantization facts are those of the same
request made by a file or through the API, but for where it came from; the flag wins over the file.
"""

from __future__ import annotations

import pytest

import lora_audit
from lora_audit.errors import AuditError
from lora_audit.measure.quantization.flags import from_flags

QWEN = "Qwen/Qwen2.5-0.5B"


def _facts(document: dict) -> dict:
    quant = dict(document["quantization"])
    for key in ("source", "request"):
        quant.pop(key)
    return quant


@pytest.mark.parametrize(("flags", "request_"), [
    (("--load-in-4bit",), {"method": "bitsandbytes", "bits": 4}),
    (("--load-in-8bit",), {"method": "bitsandbytes", "bits": 8}),
    (("--quantization", "bnb:4"), {"method": "bitsandbytes", "bits": 4}),
    (("--quantization", "hqq:4"), {"method": "hqq", "bits": 4}),
])
def test_a_flag_is_the_same_request_as_the_api_makes(cli, flags, request_):
    result = cli(QWEN, "--targets", "q_proj,v_proj", "--format", "json", *flags)
    document = result.json()
    assert document["quantization"]["source"] == " ".join(flags)
    api = lora_audit.audit(QWEN, {"target_modules": ["q_proj", "v_proj"]}, quantization_request=request_).to_dict()
    assert _facts(document) == _facts(api)
    assert document["quantization"]["quantized_targets"] == 48  # 24 layers x q_proj, v_proj


def test_the_flag_wins_over_the_file_and_says_so(cli, tmp_path):
    path = tmp_path / "qlora.yml"
    path.write_text("base_model: Qwen/Qwen2.5-0.5B\nadapter: lora\nload_in_8bit: true\nlora_r: 8\nlora_alpha: 16\n"
                    "lora_target_modules: [q_proj]\n")
    assert cli(path, "--format", "json").json()["quantization"]["bits"] == 8
    flagged = cli(path, "--format", "json", "--load-in-4bit").json()["quantization"]
    assert (flagged["bits"], flagged["source"]) == (4, "--load-in-4bit")


def test_the_cache_tells_a_quantized_run_from_a_plain_one(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("LORA_AUDIT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("LORA_AUDIT_NO_CACHE", raising=False)
    plain = cli(QWEN, "--targets", "q_proj", "--format", "json").json()
    flagged = cli(QWEN, "--targets", "q_proj", "--format", "json", "--load-in-4bit").json()
    assert plain["quantization"] is None and flagged["quantization"]["bits"] == 4


@pytest.mark.parametrize(("args", "said"), [
    (("--load-in-4bit", "--load-in-8bit"), "--load-in-4bit and --load-in-8bit both say"),
    (("--quantization", "bitsandbytse:4"), "did you mean bitsandbytes?"),
    (("--quantization", "bitsandbytes:3"), "bitsandbytes quantizes to 4 or 8 bits"),
    (("--quantization", "gptq:four"), "'four' is not a number of bits"),
])
def test_a_wrong_quantization_flag_is_one_line_and_exit_2(cli, args, said):
    result = cli(QWEN, "--targets", "q_proj", *args)
    assert result.code == 2 and result.out == ""
    assert said in result.err and result.err.count("\n") == 1


def test_from_flags_without_flags_asks_for_nothing():
    assert from_flags(None, None, None) is None
    assert from_flags(False, False, None) is None
    with pytest.raises(AuditError):
        from_flags(True, None, "hqq:4")
