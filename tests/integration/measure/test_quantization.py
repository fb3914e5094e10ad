"""Quantized bases: what is read, what wins, which modules stay full precision, what PEFT refuses.

Fixtures: DeepSeek-V3's published config (FP8) and fixtures/quantized/ (Qwen2.5-0.5B's published
config with a quantization_config block written by transformers' own config classes, or by hand for
compressed-tensors; labelled synthetic in fixtures/README.md). Where transformers or PEFT decides
something, the test asks transformers' or PEFT's own code.
"""

from __future__ import annotations

import inspect
import json
import shutil

import pytest

import lora_audit
from lora_audit.measure.quantization import backends, classify, describe
from lora_audit.measure.quantization.backends import BACKENDS
from lora_audit.measure.quantization.describe import from_checkpoint
from lora_audit.report import QuantizationRef
from tests.conftest import FIXTURES, MODELS, TINY

QUANT = FIXTURES / "quantized"
QWEN = "Qwen/Qwen2.5-0.5B"
GPTQ = QUANT / "qwen2.5-0.5b-gptq-int4"
BNB4 = QUANT / "qwen2.5-0.5b-bnb-nf4"
BNB8_SKIP = QUANT / "qwen2.5-0.5b-bnb-int8-skip"
AWQ = QUANT / "qwen2.5-0.5b-awq"
CT = QUANT / "qwen2.5-0.5b-compressed-tensors-w4a16"
TARGETS = {"target_modules": ["q_proj", "down_proj"]}
BNB_REQUEST = {"method": "bitsandbytes", "bits": 4, "source": "qlora.yml: load_in_4bit"}


def _codes(report, prefix="LA03"):
    return sorted((f.code, f.severity, f.subject) for f in report.findings if f.code.startswith(prefix))


def _block(path):
    return json.loads((path / "config.json").read_text())["quantization_config"]


# --------------------------------------------------------------------------- reading config.json
def test_deepseek_v3_published_fp8_block_is_read():
    block = json.loads((MODELS / "deepseek-ai--DeepSeek-V3" / "config.json").read_text())["quantization_config"]
    q = from_checkpoint(block)
    assert (q.method, q.bits, q.source) == ("fp8", 8, "config.json: quantization_config")
    assert q.details == {"fmt": "e4m3", "activation_scheme": "dynamic", "weight_block_size": [128, 128]}
    assert q.skip_modules == [] and q.skip_field is None


@pytest.mark.parametrize(
    ("fixture", "method", "bits", "skip_field", "skips"),
    [
        ("qwen2.5-0.5b-bnb-nf4", "bitsandbytes", 4, None, []),
        ("qwen2.5-0.5b-bnb-int8-skip", "bitsandbytes", 8, "llm_int8_skip_modules", ["lm_head", "down_proj"]),
        ("qwen2.5-0.5b-gptq-int4", "gptq", 4, None, []),
        ("qwen2.5-0.5b-awq", "awq", 4, "modules_to_not_convert", ["lm_head"]),
        ("qwen2.5-0.5b-compressed-tensors-w4a16", "compressed-tensors", 4, "ignore",
         ["lm_head", r"re:.*mlp\.down_proj$"]),
        ("qwen2.5-0.5b-fbgemm-fp8", "fbgemm_fp8", 8, None, []),
        ("qwen2.5-0.5b-quanto-int8", "quanto", 8, None, []),
    ],
)
def test_each_method_is_read(fixture, method, bits, skip_field, skips):
    q = from_checkpoint(_block(QUANT / fixture))
    assert (q.method, q.bits, q.skip_field, q.skip_modules) == (method, bits, skip_field, skips)


def test_bitsandbytes_details_and_a_legacy_block_without_quant_method():
    q = from_checkpoint(_block(BNB4))
    assert q.details["bnb_4bit_quant_type"] == "nf4" and q.details["bnb_4bit_use_double_quant"] is True
    # Older bnb checkpoints wrote only load_in_8bit: transformers reads them as bitsandbytes too.
    assert from_checkpoint({"load_in_8bit": True}).method == "bitsandbytes"
    assert from_checkpoint({"load_in_8bit": True}).bits == 8


def test_an_unreadable_block_is_said_not_skipped():
    q = describe.describe(None, ["not", "a", "mapping"], {})
    assert q.method == "unknown" and "not a mapping" in q.note


# --------------------------------------------------------------------------- counts stay logical
@pytest.mark.parametrize("fixture", sorted(p.name for p in QUANT.iterdir() if p.name.startswith("qwen2.5-")))
def test_a_quantization_config_changes_no_count(fixture):
    plain = lora_audit.audit(QWEN, TARGETS)
    quantized = lora_audit.audit(QUANT / fixture, TARGETS)
    assert quantized.quantization is not None
    assert (quantized.params, quantized.model.class_name, quantized.model.base_params) == (
        plain.params, plain.model.class_name, plain.model.base_params)
    assert quantized.params.base == 494_032_768
    assert quantized.params.trainable == 1_449_984
    assert [r.dense_params for r in quantized.adapted_modules] == [r.dense_params for r in plain.adapted_modules]


def test_deepseek_v3_counts_equal_with_and_without_its_fp8_block(tmp_path):
    src = MODELS / "deepseek-ai--DeepSeek-V3" / "config.json"
    raw = json.loads(src.read_text())
    del raw["quantization_config"]
    (tmp_path / "config.json").write_text(json.dumps(raw))
    config = {"target_modules": ["q_a_proj", "kv_a_proj_with_mqa"]}
    with_block = lora_audit.audit("deepseek-ai/DeepSeek-V3", config)
    without = lora_audit.audit(tmp_path, config)
    assert without.quantization is None
    assert with_block.params == without.params
    assert with_block.params.base == 671_026_404_352
    assert with_block.quantization.method == "fp8" and with_block.quantization.quantized_targets == 122


def test_the_meta_model_is_not_quantized(tmp_path):
    """transformers quantizes in from_pretrained only: the meta model keeps nn.Linear with logical shapes."""
    from transformers import AutoConfig, AutoModelForCausalLM

    config = AutoConfig.from_pretrained(BNB4)
    assert config.quantization_config["quant_method"] == "bitsandbytes"
    import torch

    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(config)
    assert type(model.model.layers[0].self_attn.q_proj).__name__ == "Linear"
    assert not getattr(model, "is_quantized", False) and getattr(model, "hf_quantizer", None) is None


# --------------------------------------------------------------------------- request vs checkpoint
def test_a_framework_request_alone(validate):
    report = lora_audit.audit(QWEN, TARGETS, quantization_request=BNB_REQUEST)
    q = validate(report.to_json())["quantization"]
    assert (q["method"], q["bits"], q["source"], q["resolution"]) == ("bitsandbytes", 4, "qlora.yml: load_in_4bit",
                                                                     "request")
    assert q["checkpoint"] is None and q["peft_layer"] == "lora.Linear4bit"
    # No skip list in the request: transformers' defaults (tied embedding pair, last parameter, output embedding).
    assert q["default_skips"] == ["lm_head", "model.embed_tokens", "model.norm"]
    assert q["quantized_targets"] == 48 and q["unquantized_targets"] == []
    assert report.params.trainable == 1_449_984


def test_a_request_filled_by_a_front_end_reaches_the_report(monkeypatch, tmp_path):
    """A front-end's Translation.quantization becomes LoraSpec.quantization_request, then the report's."""
    from lora_audit.config import frontends

    def framework(loaded, select=None):  # stands in for the LLaMA-Factory front-end reading quantization_bit: 8
        return frontends.Translation(
            format="stub", fields={"target_modules": ["q_proj", "down_proj"]},
            quantization={"method": "bitsandbytes", "bits": 8, "source": f"{loaded.path.name}: quantization_bit"},
        )

    monkeypatch.setattr(frontends, "translate", framework)
    (tmp_path / "train.yaml").write_text("quantization_bit: 8\n")
    report = lora_audit.audit(QWEN, config_file=tmp_path / "train.yaml")
    q = report.quantization
    assert (q.method, q.bits, q.source, q.resolution) == (
        "bitsandbytes", 8, "train.yaml: quantization_bit", "request")
    assert report.params.trainable == 1_449_984
    # An explicit API request wins over the file's.
    q = lora_audit.audit(QWEN, config_file=tmp_path / "train.yaml", quantization_request=BNB_REQUEST).quantization
    assert (q.bits, q.source) == (4, "qlora.yml: load_in_4bit")


def test_request_agreeing_with_the_checkpoint_is_quiet():
    report = lora_audit.audit(BNB4, TARGETS, quantization_request=BNB_REQUEST)
    assert report.quantization.resolution == "agree"
    assert report.quantization.source == "config.json: quantization_config"
    assert _codes(report) == []


def test_bnb_request_on_a_gptq_checkpoint_is_the_conflict_transformers_raises(validate):
    from transformers import BitsAndBytesConfig
    from transformers.quantizers.auto import AutoHfQuantizer

    report = lora_audit.audit(GPTQ, TARGETS, quantization_request=BNB_REQUEST)
    validate(report.to_dict())
    q = report.quantization
    assert q.resolution == "conflict" and q.method == "gptq"  # the base really is GPTQ
    assert q.request == QuantizationRef(method="bitsandbytes", bits=4, source="qlora.yml: load_in_4bit")
    finding = next(f for f in report.findings if f.code == "LA031")
    assert finding.severity == "error"
    with pytest.raises(ValueError) as raised:
        AutoHfQuantizer.merge_quantization_configs(_block(GPTQ), BitsAndBytesConfig(load_in_4bit=True))
    # lora-audit quotes what transformers says.
    assert "quantized with GPTQConfig but you are passing a BitsAndBytesConfig" in str(raised.value)
    assert "quantized with GPTQConfig but you are passing a BitsAndBytesConfig" in finding.message
    assert report.exit_code == 1


def test_other_bits_of_the_same_method_the_checkpoint_wins():
    from transformers import BitsAndBytesConfig
    from transformers.quantizers.auto import AutoHfQuantizer

    report = lora_audit.audit(BNB8_SKIP, TARGETS, quantization_request=BNB_REQUEST)
    q = report.quantization
    assert (q.resolution, q.bits) == ("checkpoint-wins", 8)
    assert [f.severity for f in report.findings if f.code == "LA031"] == ["warning"]
    with pytest.warns(UserWarning):
        merged = AutoHfQuantizer.merge_quantization_configs(_block(BNB8_SKIP), BitsAndBytesConfig(load_in_4bit=True))
    assert merged.load_in_8bit and not merged.load_in_4bit  # transformers kept the checkpoint's 8-bit


# --------------------------------------------------------------------------- skipped modules
def test_llm_int8_skip_modules_replaces_transformers_defaults():
    report = lora_audit.audit(BNB8_SKIP, {"target_modules": ["q_proj", "down_proj", "lm_head"]})
    q = report.quantization
    assert q.default_skips == []  # a given skip list replaces the defaults (get_modules_to_not_convert)
    reasons = {item.name: item.reason for item in q.unquantized_targets}
    assert reasons["model.layers.0.mlp.down_proj"] == "llm_int8_skip_modules: down_proj"
    assert reasons["lm_head"] == "llm_int8_skip_modules: lm_head"
    assert q.quantized_targets == 24
    la032 = [f for f in report.findings if f.code == "LA032"]
    assert [(f.severity, f.subject) for f in la032] == [("info", "model.layers.(0-23).mlp.down_proj, lm_head")]
    assert "(llm_int8_skip_modules: down_proj, lm_head)" in la032[0].message


def test_skip_matching_is_transformers_own():
    from transformers.quantizers.quantizers_utils import should_convert_module

    # "mlp.gate" keeps mlp.gate out of quantization but not mlp.gate_proj (module boundary).
    assert not should_convert_module("model.layers.0.mlp.gate", ["mlp.gate"])
    assert classify._skipped("bitsandbytes", "model.layers.0.mlp.gate", "Linear", "mlp.gate")
    assert not classify._skipped("bitsandbytes", "model.layers.0.mlp.gate_proj", "Linear", "mlp.gate")


def test_a_published_awq_skip_list_matched_as_transformers_does(tmp_path):
    """QuantTrio's DeepSeek-V3.2-Exp-AWQ modules_to_not_convert (published) on DeepSeek-V3's layer layout."""
    raw = json.loads((MODELS / "deepseek-ai--DeepSeek-V3" / "config.json").read_text())
    raw["quantization_config"] = json.loads((FIXTURES / "quantized-blocks" / "QuantTrio--DeepSeek-V3.2-Exp-AWQ.json")
                                            .read_text())
    (tmp_path / "config.json").write_text(json.dumps(raw))
    report = lora_audit.audit(tmp_path, {"target_modules": ["q_a_proj", "lm_head"]})
    q = report.quantization
    assert (q.method, q.bits, q.skip_field) == ("awq", 4, "modules_to_not_convert")
    reasons = {item.name: item.reason for item in q.unquantized_targets}
    # transformers reads each entry as a regex from the start, up to a module boundary: the "." in
    # "model.layers.1." matches any character, so layers 10-19 are kept in full precision too (and
    # 20-29 by "model.layers.2."). vLLM reads the same list as substrings; transformers 5.24 does not.
    from transformers.quantizers.quantizers_utils import should_convert_module

    assert not should_convert_module("model.layers.15.self_attn.q_a_proj", ["model.layers.1."])
    widened = f"{{}} {classify.REGEX_WIDENED}"
    expected = {i: f"model.layers.{i}." for i in (0, 1, 2, 60)}
    expected |= {i: widened.format("model.layers.1.") for i in range(10, 20)}
    expected |= {i: widened.format("model.layers.2.") for i in range(20, 30)}
    assert reasons == {
        **{f"model.layers.{i}.self_attn.q_a_proj": f"modules_to_not_convert: {entry}" for i, entry in expected.items()},
        "lm_head": "transformers default: lm_head",  # AWQ always adds transformers' defaults
    }
    assert q.quantized_targets == 61 - 24
    la032 = {(f.severity, f.subject) for f in report.findings if f.code == "LA032"}
    assert ("warning", "model.layers.(10-19).self_attn.q_a_proj") in la032
    assert ("info", "model.layers.(0-2,60).self_attn.q_a_proj") in la032
    assert report.params.base == 671_026_404_352


def test_compressed_tensors_ignore_uses_its_re_prefix():
    report = lora_audit.audit(CT, {"target_modules": ["q_proj", "down_proj", "up_proj"]})
    q = report.quantization
    skipped = {item.name for item in q.unquantized_targets}
    assert skipped == {f"model.layers.{i}.mlp.down_proj" for i in range(24)}
    assert q.quantized_targets == 48 and q.default_skips == []
    # Without "re:" an entry is an exact name (or a class name), never a pattern.
    assert not classify._skipped("compressed-tensors", "model.layers.0.mlp.down_proj", "Linear", "down_proj")
    assert classify._skipped("compressed-tensors", "model.layers.0.mlp.down_proj", "Linear", "Linear")


def test_fused_experts_are_not_quantized_layers():
    report = lora_audit.audit(
        "mistralai/Mixtral-8x7B-v0.1",
        {"target_modules": ["q_proj"], "target_parameters": ["mlp.experts.down_proj"]},
        quantization_request=BNB_REQUEST,
    )
    reasons = {item.reason for item in report.quantization.unquantized_targets}
    assert reasons == {"fused expert parameter: the quantizer replaces Linear layers"}
    assert report.quantization.quantized_targets == 32


# --------------------------------------------------------------------------- PEFT's limits per backend
def test_dora_refused_on_gptq_but_not_on_bitsandbytes():
    config = {**TARGETS, "use_dora": True}
    gptq = lora_audit.audit(GPTQ, config)
    assert ("LA030", "error", "use_dora") in _codes(gptq)
    assert "GPTQLoraLinear does not support DoRA yet" in next(f.message for f in gptq.findings if f.code == "LA030")
    assert "LA030" not in {f.code for f in lora_audit.audit(BNB4, config).findings}


@pytest.mark.parametrize(
    ("request_", "config", "expected"),
    [
        ({"method": "hqq", "bits": 4}, {"lora_bias": True}, ("LA030", "error", "lora_bias")),
        ({"method": "torchao", "bits": 8}, {"lora_bias": True}, ("LA030", "error", "lora_bias")),
        ({"method": "bitsandbytes", "bits": 4}, {"init_lora_weights": "pissa_niter_4"},
         ("LA030", "error", "init_lora_weights")),
        ({"method": "awq", "bits": 4}, {"use_qalora": True}, ("LA030", "warning", "use_qalora")),
        ({"method": "eetq", "bits": 8}, {"use_dora": True}, ("LA030", "error", "use_dora")),
    ],
)
def test_backend_limits(request_, config, expected):
    report = lora_audit.audit(TINY / "qwen2", {"target_modules": ["q_proj"], **config}, quantization_request=request_)
    assert expected in _codes(report)


def test_loftq_on_a_quantized_base_is_a_warning():
    # PEFT's LoraConfig needs scipy for loftq, so the limit is checked on the config dict directly.
    q = describe.describe({"method": "bitsandbytes", "bits": 4}, None, {"init_lora_weights": "loftq"})
    assert [(u.feature, u.severity) for u in q.unsupported] == [("init_lora_weights", "warning")]
    assert "LoftQ will quantize the model itself" in q.unsupported[0].message


def test_limits_are_quiet_when_every_adapted_module_stays_full_precision():
    report = lora_audit.audit(GPTQ, {"target_modules": ["lm_head"], "use_dora": True})
    assert report.quantization.quantized_targets == 0
    assert "LA030" not in {f.code for f in report.findings}


def test_bitsandbytes_olora_is_allowed_qalora_only_on_gptq():
    bnb = lora_audit.audit(TINY / "qwen2", {"target_modules": ["q_proj"], "init_lora_weights": "olora"},
                           quantization_request={"method": "bitsandbytes", "bits": 4})
    assert "LA030" not in {f.code for f in bnb.findings}
    gptq = lora_audit.audit(TINY / "qwen2", {"target_modules": ["q_proj"], "use_qalora": True},
                            quantization_request={"method": "gptq", "bits": 4})
    assert "LA030" not in {f.code for f in gptq.findings}


def test_the_limits_quote_the_installed_peft():
    """Each refusal lora-audit reports is still in the PEFT source it cites (a PEFT upgrade shows up here)."""
    import peft
    from peft.tuners.lora import aqlm, awq, eetq, gptq, hqq, layer, torchao

    assert peft.__version__ == backends.PEFT_VERSION_READ
    for module, cls in ((gptq, "GPTQLoraLinear"), (awq, "AwqLoraLinear"), (aqlm, "AqlmLoraLinear")):
        source = inspect.getsource(module)
        assert "does not support DoRA yet" in source and "does not support VeLoRA" in source, cls
    assert "does not support DoRA yet" in inspect.getsource(eetq)
    assert "does not support lora_bias yet" in inspect.getsource(hqq)
    assert "does not support lora_bias yet" in inspect.getsource(torchao)
    assert "Please initialize PiSSA under float32, float16, or bfloat16" in inspect.getsource(layer)
    assert "use_qalora" in inspect.getsource(gptq) and "use_qalora" not in inspect.getsource(layer.Linear)
    # The backends whose limits list DoRA are exactly those whose layer refuses it.
    refusing = {key for key, backend in BACKENDS.items() if any(lim.feature == "use_dora" for lim in backend.limits)}
    assert refusing == {"gptq", "awq", "aqlm", "eetq"}


def test_not_trainable_methods_match_transformers():
    import importlib

    for method, cls_name in backends.NOT_TRAINABLE.items():
        module_name = {"auto-round": "auto_round", "fbgemm_fp8": "fbgemm_fp8"}.get(method, method.replace("-", "_"))
        module = importlib.import_module(f"transformers.quantizers.quantizer_{module_name}")
        attr = inspect.getattr_static(getattr(module, cls_name), "is_trainable")
        source = inspect.getsource(attr.fget if isinstance(attr, property) else attr)
        assert "return False" in source, method


def test_fbgemm_fp8_cannot_be_trained_and_quanto_is_unrecognised():
    fbgemm = lora_audit.audit(QUANT / "qwen2.5-0.5b-fbgemm-fp8", TARGETS)
    assert ("LA033", "error", "quantization") in _codes(fbgemm)
    assert "LA034" not in {f.code for f in fbgemm.findings}
    quanto = lora_audit.audit(QUANT / "qwen2.5-0.5b-quanto-int8", TARGETS)
    assert ("LA034", "warning", "quantization") in _codes(quanto)
    assert quanto.quantization.known is False and quanto.quantization.unsupported == []


# --------------------------------------------------------------------------- in-memory model, rendering, CLI
def test_an_in_memory_model_with_a_quantization_config():
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    config = AutoConfig.from_pretrained(TINY / "qwen2")
    config.quantization_config = _block(GPTQ)
    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(config)
    report = lora_audit.audit(model, {"target_modules": ["q_proj"], "use_dora": True})
    assert report.quantization.method == "gptq"
    assert ("LA030", "error", "use_dora") in _codes(report)


def test_terminal_and_markdown_show_the_quantization(tmp_path, cli):
    shutil.copytree(BNB8_SKIP, tmp_path / "model")
    result = cli(str(tmp_path / "model"), "--targets", "q_proj,down_proj", "--format", "markdown")
    assert "Quantization: bitsandbytes, 8-bit (from config.json: quantization_config)" in result.out
    assert "- not quantized (llm_int8_skip_modules): lm_head, down_proj" in result.out
    result = cli(str(tmp_path / "model"), "--targets", "q_proj,down_proj")
    assert "quant   bitsandbytes, 8-bit" in result.out
    assert "parameter counts are logical" in result.out
    plain = cli(QWEN, "--targets", "q_proj,down_proj")
    assert "quant " not in plain.out
    doc = cli(str(tmp_path / "model"), "--targets", "q_proj,down_proj", "--format", "json").json()  # schema-checked
    assert doc["quantization"]["skip_modules"] == ["lm_head", "down_proj"]
    assert [f["code"] for f in doc["findings"]] == ["LA032"]


def test_json_quantization_is_null_for_a_full_precision_base(validate):
    doc = validate(lora_audit.audit(QWEN, TARGETS).to_json())
    assert doc["quantization"] is None


@pytest.mark.parametrize("fixture", ["qwen2.5-0.5b-bnb-nf4", "qwen2.5-0.5b-gptq-int4"])
def test_counts_on_a_quantized_config_equal_peft_on_real_full_precision_weights(tmp_path, fixture):
    """Logical counts: what PEFT counts on the same shapes with real weights (tiny Qwen2, materialised on CPU).

    PEFT's get_nb_trainable_parameters itself counts a bitsandbytes 4-bit weight at its logical size
    (numel x 2 of the packed storage), so these are its numbers on a quantized model too.
    """
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoConfig, AutoModelForCausalLM

    raw = json.loads((TINY / "qwen2" / "config.json").read_text())
    raw["quantization_config"] = _block(QUANT / fixture)
    (tmp_path / "config.json").write_text(json.dumps(raw))
    lora = {"target_modules": ["q_proj", "v_proj", "down_proj"], "r": 4}
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(TINY / "qwen2"))
    trainable, total = get_peft_model(model, LoraConfig(**lora)).get_nb_trainable_parameters()
    report = lora_audit.audit(tmp_path, lora)
    assert report.quantization is not None
    assert (report.params.trainable, report.params.total) == (trainable, total)


def test_gptq_quantizes_the_decoder_blocks_and_modules_in_block_to_quantize():
    request = {"method": "gptq", "bits": 4}
    report = lora_audit.audit(GPTQ, {"target_modules": ["q_proj", "v_proj", "lm_head"]})
    reasons = {item.reason for item in report.quantization.unquantized_targets}
    assert reasons == {"outside the decoder blocks GPTQ quantizes"}  # lm_head
    assert report.quantization.quantized_targets == 48 and report.quantization.default_skips == []
    q = describe.describe(request, {"quant_method": "gptq", "bits": 4, "block_name_to_quantize": "model.layers",
                                        "modules_in_block_to_quantize": [["self_attn.q_proj"], ["mlp.down_proj"]]}, {})
    assert q is not None and q.quantized_targets == 0  # describe() leaves the classification to classify_targets
    q = classify.classify_targets(q, lora_audit.audit(GPTQ, {"target_modules": ["q_proj", "v_proj"]}).adapted_modules,
                                  ["lm_head"])
    assert q.quantized_targets == 24
    assert {item.reason for item in q.unquantized_targets} == {"not in modules_in_block_to_quantize"}


def test_the_model_classes_keep_in_fp32_modules_are_skipped_too():
    """T5 declares _keep_in_fp32_modules = ["wo"]: transformers' quantizers add it to every skip list."""
    report = lora_audit.audit("google-t5/t5-base", {"target_modules": ["q", "wo"]}, quantization_request=BNB_REQUEST)
    reasons = {item.name: item.reason for item in report.quantization.unquantized_targets}
    assert reasons["encoder.block.0.layer.1.DenseReluDense.wo"] == "keep_in_fp32_modules: wo"
    assert len(reasons) == 24 and report.quantization.quantized_targets == 36


def test_modules_to_save_on_a_quantized_layer_cannot_train():
    """A full trainable copy of an integer-weight layer: torch refuses requires_grad on it."""
    import torch

    with pytest.raises(RuntimeError, match="only Tensors of floating point dtype can require gradients"):
        torch.zeros(2, dtype=torch.uint8).requires_grad_(True)  # what a bnb 4-bit weight is
    # lm_head is quantized when the skip list leaves it out (a given list replaces transformers' defaults).
    request = {**BNB_REQUEST, "skip_modules": ["down_proj"], "skip_field": "llm_int8_skip_modules"}
    report = lora_audit.audit(QWEN, {"target_modules": ["q_proj"], "modules_to_save": ["lm_head", "embed_tokens"]},
                              quantization_request=request)
    la030 = [f for f in report.findings if f.code == "LA030"]
    assert [(f.severity, f.subject) for f in la030] == [("error", "modules_to_save")]
    assert "modules_to_save='lm_head'" in la030[0].message  # embed_tokens is an nn.Embedding: not quantized
    # With transformers' defaults lm_head stays full precision, and so does a SEQ_CLS head (the last parameter).
    for kwargs in ({"modules_to_save": ["lm_head"]}, {"task_type": "SEQ_CLS"}):
        report = lora_audit.audit(QWEN, {"target_modules": ["q_proj"], **kwargs}, quantization_request=BNB_REQUEST)
        assert "LA030" not in {f.code for f in report.findings}
