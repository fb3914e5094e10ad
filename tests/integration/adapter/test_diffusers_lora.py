"""diffusers pipeline LoRA files (pytorch_lora_weights.safetensors), read as diffusers loads them.

The files are written here by diffusers itself, the way its training scripts write them:
``train_dreambooth_lora_sdxl.py`` saves ``convert_state_dict_to_diffusers(get_peft_model_state_dict(unet))``
(the older ``lora.down`` / ``lora.up`` naming) with ``save_lora_weights``; ``train_dreambooth_lora_flux.py``
saves PEFT-named keys plus the LoraConfig as ``transformer_lora_adapter_metadata`` (diffusers commit 58eb52c).
Every count is compared with what diffusers' own ``load_lora_adapter`` builds on a CPU copy of the model.
"""

from __future__ import annotations

import json
import struct

import pytest
import torch

from lora_audit import audit
from lora_audit.errors import AuditError
from tests.conftest import TINY

diffusers = pytest.importorskip("diffusers")

UNET_TARGETS = ["to_q", "to_k", "to_v", "to_out.0"]
FLUX_TARGETS = ["to_q", "to_k", "to_v", "to_out.0", "add_q_proj", "ff.net.0.proj", "proj_mlp"]


def _model(name: str):
    config = json.loads((TINY / name / "config.json").read_text())
    torch.manual_seed(0)
    return getattr(diffusers, config["_class_name"]).from_config(config)


def _sdxl_script_file(tmp_path, targets=UNET_TARGETS, r=4):
    from diffusers.utils import convert_state_dict_to_diffusers
    from peft import LoraConfig, get_peft_model_state_dict

    unet = _model("unet")
    unet.add_adapter(LoraConfig(r=r, lora_alpha=r, init_lora_weights="gaussian", target_modules=targets))
    layers = convert_state_dict_to_diffusers(get_peft_model_state_dict(unet))
    diffusers.StableDiffusionPipeline.save_lora_weights(tmp_path, unet_lora_layers=layers)
    return tmp_path / "pytorch_lora_weights.safetensors"


def _flux_script_file(tmp_path, alpha=8):
    from peft import LoraConfig, get_peft_model_state_dict

    transformer = _model("flux")
    transformer.add_adapter(
        LoraConfig(r=4, lora_alpha=alpha, init_lora_weights="gaussian", target_modules=FLUX_TARGETS))
    diffusers.FluxPipeline.save_lora_weights(
        tmp_path,
        transformer_lora_layers=get_peft_model_state_dict(transformer),
        transformer_lora_adapter_metadata=transformer.peft_config["default"].to_dict(),
    )
    return tmp_path / "pytorch_lora_weights.safetensors"


def _diffusers_loads(name: str, path, prefix: str):
    """What ``pipeline.load_lora_weights(path)`` loads into the component, step by step with diffusers' own
    classmethods (``lora_state_dict``, then ``load_lora_into_unet`` / ``load_lora_into_transformer``), on a
    CPU copy: (LoRA parameters, the LoraConfig it built, the adapted modules)."""
    pipeline = diffusers.StableDiffusionPipeline if prefix == "unet" else diffusers.FluxPipeline
    extra = {"return_alphas": True} if prefix == "transformer" else {}  # as FluxPipeline.load_lora_weights asks
    state_dict, alphas, metadata = pipeline.lora_state_dict(str(path), return_lora_metadata=True, **extra)
    model = _model(name)
    load = pipeline.load_lora_into_unet if prefix == "unet" else pipeline.load_lora_into_transformer
    load(state_dict, alphas, model, adapter_name="default", metadata=metadata)
    lora = sum(p.numel() for n, p in model.named_parameters() if ".lora_" in n)
    adapted = {n for n, m in model.named_modules() if hasattr(m, "lora_A")}
    return lora, model.peft_config["default"], adapted


def _rewrite(path, out, change):
    """The same file with its header changed by ``change(header)`` (tensor data kept)."""
    raw = path.read_bytes()
    (length,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + length])
    change(header)
    new = json.dumps(header).encode()
    out.write_bytes(struct.pack("<Q", len(new)) + new + raw[8 + length:])
    return out


def test_sdxl_script_file_matches_every_key_and_counts_what_diffusers_loads(tmp_path):
    path = _sdxl_script_file(tmp_path)
    assert all(".lora.down." in k or ".lora.up." in k for k in _keys(path))  # the older diffusers naming
    report = audit(TINY / "unet", adapter=path)
    a = report.adapter
    assert a.format == "diffusers" and a.compared and a.config_file is None
    c = a.comparison
    assert (c.matched, c.missing_count, c.unexpected_count, c.mismatched_count) == (c.expected_tensors, 0, 0, 0)
    assert c.expected_tensors == 96
    conv = a.conversion
    assert (conv.from_format, conv.component, conv.config_from) == ("diffusers", "unet", "keys")
    assert "convert_unet_state_dict_to_peft" in conv.function
    lora, config, adapted = _diffusers_loads("unet", path, "unet")
    assert report.params.trainable == lora
    assert (report.lora_config["r"], report.lora_config["lora_alpha"]) == (config.r, config.lora_alpha) == (4, 4)
    assert {row.name for row in report.adapted_modules} == adapted
    assert report.findings == []


def test_flux_script_file_takes_its_lora_config_from_the_metadata(tmp_path):
    path = _flux_script_file(tmp_path, alpha=8)
    report = audit(TINY / "flux", adapter=path)
    a = report.adapter
    assert a.conversion.config_from == "metadata" and a.conversion.component == "transformer"
    c = a.comparison
    assert c.matched == c.expected_tensors > 0 and c.unexpected_count == c.missing_count == 0
    lora, config, adapted = _diffusers_loads("flux", path, "transformer")
    assert report.params.trainable == lora and {row.name for row in report.adapted_modules} == adapted
    # alpha 8 comes only from the metadata: derived from the keys it would be the rank, 4
    assert (report.lora_config["r"], report.lora_config["lora_alpha"]) == (config.r, config.lora_alpha) == (4, 8)


def test_a_file_for_another_unet_is_a_shape_finding(tmp_path):
    path = _sdxl_script_file(tmp_path)
    other = tmp_path / "wider"
    other.mkdir()
    config = json.loads((TINY / "unet" / "config.json").read_text())
    config["cross_attention_dim"] = 48  # to_k / to_v of the cross-attention read 48 features, not 32
    (other / "config.json").write_text(json.dumps(config))
    report = audit(other, adapter=path)
    assert report.adapter.comparison.mismatched_count > 0
    assert "LA042" in {f.code for f in report.findings}


def test_a_unet_file_against_a_transformer_is_refused(tmp_path):
    with pytest.raises(AuditError) as info:
        audit(TINY / "flux", adapter=_sdxl_script_file(tmp_path))
    assert info.value.code == "adapter-base-mismatch"
    assert "diffusers pipeline LoRA for a UNet" in info.value.message


def test_text_encoder_keys_are_named_not_audited(tmp_path):
    path = _sdxl_script_file(tmp_path)

    def add_text_encoder(header):
        end = max(v["data_offsets"][1] for k, v in header.items() if k != "__metadata__")
        header["text_encoder.text_model.encoder.layers.0.self_attn.q_proj.lora.down.weight"] = {
            "dtype": "F32", "shape": [1, 1], "data_offsets": [end - 4, end]}

    report = audit(TINY / "unet", adapter=_rewrite(path, tmp_path / "te.safetensors", add_text_encoder))
    assert report.adapter.comparison.matched == 96
    [finding] = [f for f in report.findings if f.code == "LA048"]
    assert "1 text-encoder tensors (text_encoder.)" in finding.message


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda h: h.update({k.replace("unet.", "", 1): v for k, v in h.items() if k.startswith("unet.")})
         or [h.pop(k) for k in [k for k in h if k.startswith("unet.")]], "no unet. / transformer. prefix"),
        (lambda h: h.update({"unet.down_blocks.1.attentions.0.proj_in.alpha": {
            "dtype": "F32", "shape": [], "data_offsets": [0, 4]}}), "alpha keys"),
        (lambda h: [h.update({k.replace("unet.", "text_encoder.", 1): h.pop(k)})
                    for k in [k for k in h if k.startswith("unet.")]], "text-encoder tensors only"),
    ],
    ids=["no-prefix", "alpha-keys", "text-encoder-only"],
)
def test_what_diffusers_would_read_differently_is_refused_not_guessed(tmp_path, change, words, cli):
    path = _rewrite(_sdxl_script_file(tmp_path), tmp_path / "odd.safetensors", change)
    with pytest.raises(AuditError) as info:
        audit(TINY / "unet", adapter=path)
    assert info.value.code == "adapter-format-unsupported" and words in info.value.message
    result = cli(str(TINY / "unet"), "--adapter", str(path))
    assert result.code == 2 and result.err.count("\n") == 1


def test_cli_shows_the_format_line(tmp_path, cli):
    path = _flux_script_file(tmp_path)
    result = cli(str(TINY / "flux"), "--adapter", str(path))
    assert result.code == 0, result.err
    assert "diffusers pipeline safetensors" in result.out and "LoraConfig from its metadata" in result.out


def _keys(path) -> list[str]:
    raw = path.read_bytes()
    (length,) = struct.unpack("<Q", raw[:8])
    return [k for k in json.loads(raw[8:8 + length]) if k != "__metadata__"]


def test_hub_repository_with_a_diffusers_lora_is_read_from_its_header(tmp_path, fake_hub):
    path = _sdxl_script_file(tmp_path)
    fake_hub.add("someone/sdxl-style", None, files={"pytorch_lora_weights.safetensors": path.read_bytes()})
    report = audit(TINY / "unet", adapter="someone/sdxl-style")
    a = report.adapter
    assert (a.format, a.source, a.comparison.matched, a.comparison.unexpected_count) == ("diffusers", "hub", 96, 0)
    assert a.file == "someone/sdxl-style:pytorch_lora_weights.safetensors"
    weights = [rng for name, rng in fake_hub.gets if name == "pytorch_lora_weights.safetensors"]
    assert weights and all(rng is not None for rng in weights)  # the header by range requests, never the data
    fake_hub.add("someone/not-a-lora", None, files={"README.md": b"hi"})
    with pytest.raises(AuditError) as info:
        audit(TINY / "unet", adapter="someone/not-a-lora")
    assert info.value.code == "adapter-config-not-found"
