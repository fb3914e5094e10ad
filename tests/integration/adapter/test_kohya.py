"""kohya-ss diffusion LoRA files: converted with diffusers' own conversion, from the header alone.

The files are made here: a PEFT adapter added to the tiny UNet with diffusers' ``add_adapter``,
converted to kohya keys with diffusers' own ``convert_state_dict_to_kohya``, and hand-written
FLUX.1 keys in kohya-ss sd-scripts' scheme (``lora_unet_double_blocks_<i>_img_attn_qkv``). Only the
header is real: tensor data is 0xff bytes except the ``.alpha`` scalars.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest
import torch

from lora_audit import audit
from lora_audit.errors import AuditError
from tests.conftest import TINY

pytest.importorskip("diffusers")

UNET_TARGETS = ["to_q", "to_k", "to_v", "to_out.0"]


def _write(path: Path, tensors: dict[str, torch.Tensor]) -> Path:
    header, offset = {}, 0
    for name, tensor in tensors.items():
        size = tensor.numel() * tensor.element_size()
        dtype = {torch.float32: "F32", torch.float16: "F16", torch.int64: "I64"}[tensor.dtype]
        header[name] = {"dtype": dtype, "shape": list(tensor.shape), "data_offsets": [offset, offset + size]}
        offset += size
    data = bytearray(b"\xff" * offset)
    for name, tensor in tensors.items():
        if name.endswith(".alpha"):
            start, end = header[name]["data_offsets"]
            data[start:end] = tensor.numpy().tobytes()
    raw = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + bytes(data))
    return path


def _unet_kohya(r: int = 4, alpha: int | None = None) -> dict[str, torch.Tensor]:
    import diffusers
    from diffusers.utils import convert_state_dict_to_kohya
    from peft import LoraConfig, get_peft_model_state_dict

    config = json.loads((TINY / "unet" / "config.json").read_text())
    with torch.device("meta"):  # shapes are all the header needs
        unet = getattr(diffusers, config["_class_name"]).from_config(config)
    unet.add_adapter(LoraConfig(r=r, lora_alpha=alpha or r, target_modules=UNET_TARGETS))
    peft_keys = get_peft_model_state_dict(unet)
    kohya = convert_state_dict_to_kohya({f"unet.{k}": v for k, v in peft_keys.items()})
    out = {k: (torch.tensor(float(alpha or r)) if k.endswith(".alpha") else torch.zeros(v.shape))
           for k, v in kohya.items()}
    assert len(out) == 144 and all(k.startswith("lora_unet_") for k in out)
    return out


@pytest.fixture(scope="module")
def unet_file(tmp_path_factory):
    return _write(tmp_path_factory.mktemp("kohya") / "style.safetensors", _unet_kohya(alpha=8))


def test_correct_kohya_unet_file_matches_every_converted_key(unet_file):
    report = audit(TINY / "unet", adapter=unet_file)
    a = report.adapter
    assert a.format == "kohya" and a.compared and a.config_file is None
    c = a.comparison
    assert (c.expected_tensors, c.matched, c.missing_count, c.unexpected_count, c.mismatched_count) == (96, 96, 0, 0, 0)
    assert a.conversion.function == "_convert_non_diffusers_lora_to_diffusers"
    assert a.conversion.component == "unet"
    assert (a.conversion.file_tensors, a.conversion.denoiser_tensors) == (144, 96)
    # the LoraConfig diffusers derives: rank from lora_B shapes, alpha from the .alpha scalars
    assert (report.lora_config["r"], report.lora_config["lora_alpha"]) == (4, 8)
    assert report.findings == []


def test_trainable_count_equals_peft_on_the_source_config(unet_file):
    from peft import LoraConfig

    direct = audit(TINY / "unet", LoraConfig(r=4, lora_alpha=8, target_modules=UNET_TARGETS))
    assert audit(TINY / "unet", adapter=unet_file).params.trainable == direct.params.trainable


def test_wrong_rank_is_a_shape_finding(tmp_path):
    tensors = _unet_kohya()
    key = next(k for k in tensors if k.endswith("attn1_to_q.lora_down.weight"))
    tensors[key] = torch.zeros(3, tensors[key].shape[1])  # rank 3 down, rank 4 up: a broken file
    report = audit(TINY / "unet", adapter=_write(tmp_path / "bad.safetensors", tensors))
    assert report.adapter.comparison.mismatched_count >= 1
    assert "LA042" in {f.code for f in report.findings}


def test_unknown_key_is_an_unexpected_key_finding(tmp_path):
    tensors = _unet_kohya()
    up = next(k for k in tensors if k.endswith("attn1_to_q.lora_up.weight"))
    stem = up.split(".")[0].replace("down_blocks_1", "down_blocks_7")  # a block the tiny UNet lacks
    tensors.update({f"{stem}.lora_down.weight": torch.zeros(4, 32), f"{stem}.lora_up.weight": torch.zeros(32, 4),
                    f"{stem}.alpha": torch.tensor(4.0)})
    report = audit(TINY / "unet", adapter=_write(tmp_path / "extra.safetensors", tensors))
    a = report.adapter
    assert (a.comparison.matched, a.comparison.unexpected_count, a.comparison.missing_count) == (96, 2, 0)
    codes = {f.code for f in report.findings}
    assert {"LA001", "LA044"} <= codes, codes  # a target in a block the base lacks; keys for another base


def test_text_encoder_keys_are_named_not_dropped(tmp_path):
    tensors = _unet_kohya()
    stem = "lora_te1_text_model_encoder_layers_0_self_attn_q_proj"
    tensors.update({f"{stem}.lora_down.weight": torch.zeros(4, 32), f"{stem}.lora_up.weight": torch.zeros(32, 4),
                    f"{stem}.alpha": torch.tensor(4.0)})
    report = audit(TINY / "unet", adapter=_write(tmp_path / "te.safetensors", tensors))
    assert report.adapter.comparison.matched == 96 and report.adapter.conversion.text_encoder_tensors == 3
    [finding] = [f for f in report.findings if f.code == "LA048"]
    assert finding.severity == "info" and "3 text-encoder tensors" in finding.message


def _flux_kohya(rank: int) -> dict[str, torch.Tensor]:
    hidden, mlp, out = 32, 128, {}

    def add(name: str, d_in: int, d_out: int) -> None:
        out[f"lora_unet_{name}.lora_down.weight"] = torch.zeros(rank, d_in)
        out[f"lora_unet_{name}.lora_up.weight"] = torch.zeros(d_out, rank)
        out[f"lora_unet_{name}.alpha"] = torch.tensor(float(rank))

    for i in range(2):
        for stream in ("img", "txt"):
            add(f"double_blocks_{i}_{stream}_attn_qkv", hidden, 3 * hidden)
            add(f"double_blocks_{i}_{stream}_attn_proj", hidden, hidden)
        add(f"single_blocks_{i}_linear2", hidden + mlp, hidden)
    return out


def test_kohya_flux_file_is_converted_to_transformer_keys(tmp_path):
    report = audit(TINY / "flux", adapter=_write(tmp_path / "flux.safetensors", _flux_kohya(5)))
    a = report.adapter
    assert a.conversion.function == "_convert_kohya_flux_lora_to_diffusers"
    assert a.conversion.component == "transformer"
    # qkv splits into to_q/to_k/to_v (add_q/k/v_proj for txt): 2 blocks x (2x3 + 2) x 2 + 2 single x 2 = 36
    assert (a.conversion.file_tensors, a.comparison.expected_tensors, a.comparison.matched) == (30, 36, 36)
    assert report.findings == []


def test_flux_conversion_that_needs_tensor_values_is_refused(tmp_path):
    # rank 6 splits evenly in 3: diffusers then tests the up weights for sparsity, a test of values
    with pytest.raises(AuditError) as info:
        audit(TINY / "flux", adapter=_write(tmp_path / "flux.safetensors", _flux_kohya(6)))
    assert info.value.code == "adapter-format-unsupported" and "tensor values" in info.value.message


def test_layout_diffusers_cannot_convert_keeps_the_exit_2_message(tmp_path, cli):
    path = _write(tmp_path / "half.safetensors", {"lora_unet_mid_block_x.lora_down.weight": torch.zeros(4, 8)})
    result = cli(str(TINY / "unet"), "--adapter", str(path))
    assert result.code == 2
    assert "cannot convert" in result.err and "KeyError" in result.err


def test_kohya_file_without_a_base_says_to_name_it(unet_file):
    with pytest.raises(AuditError) as info:
        audit(None, adapter=unet_file)
    assert info.value.code == "adapter-base-unknown" and "kohya" in info.value.message


def test_json_report_validates(unet_file, cli, validate):
    result = cli(str(TINY / "unet"), "--adapter", str(unet_file), "--format", "json")
    assert result.code == 0, result.err
    data = json.loads(result.out)
    validate(data)
    assert data["adapter"]["format"] == "kohya" and data["adapter"]["matched"] == 96


def test_terminal_names_the_conversion(unet_file, cli):
    result = cli(str(TINY / "unet"), "--adapter", str(unet_file))
    assert result.code == 0, result.err
    assert "kohya-ss safetensors, 144 tensors, converted by diffusers" in " ".join(result.out.split())


def test_kohya_file_against_a_transformers_model_is_refused(unet_file):
    with pytest.raises(AuditError) as info:
        audit(TINY / "qwen2", adapter=unet_file)
    assert info.value.code == "adapter-base-mismatch" and "--component unet" in info.value.hint


def test_kohya_unet_file_against_flux_is_refused(unet_file):
    with pytest.raises(AuditError) as info:
        audit(TINY / "flux", adapter=unet_file)
    assert info.value.code == "adapter-base-mismatch" and "FluxTransformer2DModel" in info.value.message


def test_sd15_catalogue_unet_kohya_file_matches_diffusers_add_adapter(tmp_path):
    """The published SD 1.5 UNet config: every converted key matches, and the trainable count equals
    the LoRA parameters diffusers' own ``add_adapter`` creates for the config the file was made from."""
    import diffusers
    from diffusers.utils import convert_state_dict_to_kohya
    from peft import LoraConfig, get_peft_model_state_dict

    from lora_audit.model import catalogue

    model_id = "stable-diffusion-v1-5/stable-diffusion-v1-5"
    config = json.loads((catalogue.find(model_id).parent / "unet" / "config.json").read_text())
    with torch.device("meta"):
        unet = diffusers.UNet2DConditionModel.from_config(config)
    unet.add_adapter(LoraConfig(r=8, lora_alpha=4, target_modules=UNET_TARGETS))
    peft_keys = get_peft_model_state_dict(unet)
    kohya = convert_state_dict_to_kohya({f"unet.{k}": v for k, v in peft_keys.items()})
    tensors = {k: torch.tensor(4.0) if k.endswith(".alpha") else torch.zeros(v.shape) for k, v in kohya.items()}
    report = audit(model_id, adapter=_write(tmp_path / "sd15.safetensors", tensors))
    a = report.adapter
    c = a.comparison
    assert (c.expected_tensors, c.matched, c.unexpected_count, c.mismatched_count) == (256, 256, 0, 0)
    assert report.params.trainable == sum(v.numel() for v in peft_keys.values()) == 1_594_368
    assert (report.lora_config["r"], report.lora_config["lora_alpha"]) == (8, 4)
    assert report.findings == []
