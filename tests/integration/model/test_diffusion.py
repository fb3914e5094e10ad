"""diffusers models and pipelines, sentence-transformers directories, and the library registry.

The counts on the bundled catalogue configs are pinned, and checked against PEFT run directly on
the same meta model diffusers builds; the tiny configs are materialised with real CPU weights and
adapted with diffusers' own ``add_adapter`` (what its training scripts call) and with PEFT's
``get_peft_model``, as tests/integration/measure/test_exactness.py does for transformers.
"""

from __future__ import annotations

import copy
import json
import re
import sys

import pytest
import torch
from peft import LoraConfig, get_peft_model

import lora_audit
from lora_audit.errors import AuditError
from tests.conftest import LORA, TINY

pytest.importorskip("diffusers")

FLUX_USER_LIST = ["to_k", "to_q", "to_v", "to_out.0", "to_add_out", "ff.0"]


def _diffusers_model(config_dir, device=None):
    import diffusers

    config = json.loads((config_dir / "config.json").read_text())
    cls = getattr(diffusers, config["_class_name"])
    if device == "meta":
        with torch.device("meta"):
            return cls.from_config(config)
    torch.manual_seed(0)
    return cls.from_config(config)


def _lora_numels(model) -> dict[str, int]:
    out: dict[str, int] = {}
    for name, module in model.named_modules():
        params = [p.numel() for n, p in module.named_parameters() if re.match(r"lora_(A|B)\.default\.", n)]
        if params:
            out[name] = sum(params)
    return out


EXACT_CASES = [
    ("unet", {"target_modules": ["to_k", "to_q", "to_v", "to_out.0"]}),
    ("unet", {"target_modules": ["to_q", "conv1", "conv2", "conv_shortcut"], "r": 3}),
    ("unet", {"target_modules": ["to_k", "to_v", "proj_in"], "use_dora": True, "bias": "lora_only"}),
    ("flux", {"target_modules": FLUX_USER_LIST, "r": 16}),
    ("flux", {"target_modules": "all-linear", "rank_pattern": {"ff.net.0.proj": 2}}),
    ("sd3", {"target_modules": "all-linear"}),
]


@pytest.mark.parametrize("name, lora", EXACT_CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(EXACT_CASES)])
def test_meta_counts_equal_peft_on_real_weights(name, lora):
    model = _diffusers_model(TINY / name)  # real CPU weights
    base = sum(p.numel() for p in model.parameters())
    peft_model = get_peft_model(model, LoraConfig(**copy.deepcopy(lora)))
    trainable, total = peft_model.get_nb_trainable_parameters()
    per_module = _lora_numels(peft_model)

    report = lora_audit.audit(TINY / name, copy.deepcopy(lora))
    assert report.applied
    assert report.model.library == "diffusers"
    assert (report.params.base, report.params.trainable, report.params.total) == (base, trainable, total)
    assert sum(report.params.trainable_breakdown.values()) == trainable
    rows = {row.name: row for row in report.adapted_modules}
    assert {name: row.lora_params for name, row in rows.items()} == {
        re.sub(r"^base_model\.model\.", "", k): v for k, v in per_module.items()
    }


def test_lora_counts_equal_diffusers_add_adapter():
    """diffusers' training scripts call ``unet.add_adapter(config)``: same LoRA parameters as the audit."""
    lora = {"r": 4, "lora_alpha": 4, "init_lora_weights": "gaussian",
            "target_modules": ["to_k", "to_q", "to_v", "to_out.0", "conv1"]}
    model = _diffusers_model(TINY / "unet")
    model.add_adapter(LoraConfig(**copy.deepcopy(lora)))
    added = sum(_lora_numels(model).values())
    report = lora_audit.audit(TINY / "unet", lora)
    assert added == report.params.trainable == sum(r.lora_params for r in report.adapted_modules)


def test_conv_rows_carry_the_kernel_and_peft_cost():
    report = lora_audit.audit(TINY / "unet", {"target_modules": ["conv1", "conv_shortcut"], "r": 2})
    conv = [r for r in report.adapted_modules if r.kind == "lora.Conv2d"]
    assert conv and all(r.base_type == "Conv2d" for r in conv)
    for row in conv:
        kh, kw = row.kernel_size
        # lora_A is a Conv2d(c_in, r, k) and lora_B a 1x1 Conv2d(r, c_out): r·(c_in·kh·kw + c_out)
        assert row.lora_params == row.r * (row.in_features * kh * kw + row.out_features)
        assert row.dense_params == row.out_features * row.in_features * kh * kw
    assert {tuple(r.kernel_size) for r in conv} == {(3, 3), (1, 1)}  # conv1 is 3x3, conv_shortcut 1x1
    assert all(r.kernel_size is None for r in report.adapted_modules if r.kind == "lora.Linear")


# --------------------------------------------------------------------------- bundled catalogue
def _peft_on_meta(repo_dir, component, lora):
    """PEFT's own counts on the meta model diffusers builds from the same bundled config."""
    model = _diffusers_model(repo_dir / component, device="meta")
    base = sum(p.numel() for p in model.parameters())
    trainable, total = get_peft_model(model, LoraConfig(**lora), low_cpu_mem_usage=True).get_nb_trainable_parameters()
    return base, trainable, total


@pytest.mark.slow  # 7 s
def test_sdxl_unet_with_attention_targets():
    from lora_audit.model import catalogue

    lora = {"r": 4, "target_modules": ["to_k", "to_q", "to_v", "to_out.0"]}
    report = lora_audit.audit("stabilityai/stable-diffusion-xl-base-1.0", dict(lora))
    assert report.model.component == "unet" and report.model.class_name == "UNet2DConditionModel"
    assert report.model.base_params == 2_567_463_684  # the SDXL UNet's published 2.6B
    assert report.params.trainable == 5_806_080
    assert [t.matched for t in report.targets] == [140, 140, 140, 140]
    repo = catalogue.CATALOGUE_DIR / "stabilityai--stable-diffusion-xl-base-1.0"
    assert _peft_on_meta(repo, "unet", lora) == (
        report.params.base, report.params.trainable, report.params.total
    )


@pytest.mark.slow  # 4 s; the flux-user-targets golden shows the same finding
def test_flux_user_list_gets_ff0_flagged_with_the_real_name():
    from lora_audit.model import catalogue

    lora = {"r": 16, "target_modules": FLUX_USER_LIST}
    report = lora_audit.audit("black-forest-labs/FLUX.1-dev", dict(lora))
    assert report.model.component == "transformer"
    assert report.model.base_params == 11_901_408_320  # FLUX.1-dev: "12 billion parameter"
    assert report.params.trainable == 20_545_536
    ff0 = next(t for t in report.targets if t.pattern == "ff.0")
    assert ff0.matched == 0
    la001 = [f for f in report.findings if f.code == "LA001"]
    assert [f.subject for f in la001] == ["ff.0"]
    assert la001[0].hint.startswith("did you mean ff.net.0.proj")
    repo = catalogue.CATALOGUE_DIR / "black-forest-labs--FLUX.1-dev"
    assert _peft_on_meta(repo, "transformer", lora)[1] == report.params.trainable


@pytest.mark.slow  # 7 s
def test_diffusers_training_script_defaults_audit_cleanly():
    flux = lora_audit.audit("black-forest-labs/FLUX.1-dev", config_file=LORA / "diffusers-flux-dreambooth.json")
    assert all(t.matched for t in flux.targets)
    assert flux.params.trainable == 11_206_656
    assert not [f for f in flux.findings if f.severity == "error"]
    sdxl = lora_audit.audit("stabilityai/stable-diffusion-xl-base-1.0",
                            config_file=LORA / "diffusers-sdxl-dreambooth.json")
    assert sdxl.params.trainable == 5_806_080 and sdxl.lora_config["lora_alpha"] == 4


def test_sd15_unet_matches_the_published_size():
    from lora_audit.model import catalogue

    lora = {"target_modules": ["to_q", "to_v"]}
    report = lora_audit.audit("stable-diffusion-v1-5/stable-diffusion-v1-5", dict(lora))
    assert report.model.base_params == 859_520_964  # the SD 1.5 UNet's published 860M
    assert report.params.trainable == 797_184
    repo = catalogue.CATALOGUE_DIR / "stable-diffusion-v1-5--stable-diffusion-v1-5"
    assert _peft_on_meta(repo, "unet", lora)[1] == report.params.trainable
    assert report.model.library == "diffusers" and report.model.library_version


@pytest.mark.slow  # 6 s
def test_sd35_large_all_linear():
    """The issue's "SD3 with all-linear", on the SD3.5 Large transformer (8.1B published)."""
    from lora_audit.model import catalogue

    lora = {"target_modules": "all-linear"}
    report = lora_audit.audit("stabilityai/stable-diffusion-3.5-large", dict(lora))
    assert (report.model.component, report.model.class_name) == ("transformer", "SD3Transformer2DModel")
    # 8,146,280,768 tensors in the hub checkpoint = these parameters + the 192·192·2432 pos_embed buffer
    assert report.model.base_params == 8_056_627_520
    assert report.model.base_params + 192 * 192 * 2432 == 16_292_561_536 // 2  # index total_size, bf16
    assert report.params.trainable == 36_920_832
    assert [t.matched for t in report.targets] == [536]
    assert not report.findings
    repo = catalogue.CATALOGUE_DIR / "stabilityai--stable-diffusion-3.5-large"
    assert _peft_on_meta(repo, "transformer", lora) == (
        report.params.base, report.params.trainable, report.params.total
    )


def test_wan21_attention_targets_reach_self_and_cross_attention():
    from lora_audit.model import catalogue

    lora = {"r": 16, "target_modules": ["to_q", "to_k", "to_v", "to_out.0"]}
    report = lora_audit.audit("Wan-AI/Wan2.1-T2V-1.3B-Diffusers", dict(lora))
    assert (report.model.component, report.model.class_name) == ("transformer", "WanTransformer3DModel")
    assert report.model.base_params == 1_418_996_800  # Wan2.1 T2V "1.3B"; the hub's metadata count
    assert report.params.trainable == 11_796_480
    assert [t.matched for t in report.targets] == [60, 60, 60, 60]  # attn1 and attn2 of 30 blocks
    assert {row.name.split(".")[2] for row in report.adapted_modules} == {"attn1", "attn2"}
    repo = catalogue.CATALOGUE_DIR / "Wan-AI--Wan2.1-T2V-1.3B-Diffusers"
    assert _peft_on_meta(repo, "transformer", lora) == (
        report.params.base, report.params.trainable, report.params.total
    )


def test_json_report_names_library_and_component(cli, validate):
    result = cli("black-forest-labs/FLUX.1-dev", "--targets", "to_q,to_v", "--format", "json")
    document = validate(result.out)
    assert document["model"]["library"] == "diffusers"
    assert document["model"]["component"] == "transformer"
    assert document["model"]["library_version"]


# --------------------------------------------------------------------------- pipelines
def _pipeline(tmp_path, with_text_encoder=True):
    index = {
        "_class_name": "StableDiffusionPipeline",
        "unet": ["diffusers", "UNet2DConditionModel"],
        "text_encoder": ["transformers", "CLIPTextModel"],
        "scheduler": ["diffusers", "PNDMScheduler"],
    }
    (tmp_path / "model_index.json").write_text(json.dumps(index))
    (tmp_path / "unet").mkdir()
    (tmp_path / "unet" / "config.json").write_text((TINY / "unet" / "config.json").read_text())
    (tmp_path / "scheduler").mkdir()
    (tmp_path / "scheduler" / "scheduler_config.json").write_text("{}")
    if with_text_encoder:
        (tmp_path / "text_encoder").mkdir()
        (tmp_path / "text_encoder" / "config.json").write_text(json.dumps({
            "model_type": "clip_text_model", "architectures": ["CLIPTextModel"], "hidden_size": 32,
            "intermediate_size": 64, "num_attention_heads": 4, "num_hidden_layers": 2, "vocab_size": 100,
            "max_position_embeddings": 16, "projection_dim": 32,
        }))
    return tmp_path


def test_local_pipeline_defaults_to_the_denoiser_and_builds_other_components(tmp_path):
    path = _pipeline(tmp_path)
    unet = lora_audit.audit(path, {"target_modules": ["to_q"]})
    assert (unet.model.component, unet.model.library) == ("unet", "diffusers")
    assert any("component unet" in note for note in unet.notes)
    text = lora_audit.audit(path, {"target_modules": ["q_proj", "v_proj"]}, component="text_encoder")
    assert (text.model.component, text.model.library, text.model.class_name) == (
        "text_encoder", "transformers", "CLIPTextModel"
    )
    assert text.params.trainable == 2 * 2 * 8 * (32 + 32)


@pytest.mark.parametrize("component, code", [("vae", "unknown-component"), ("scheduler", "component-not-a-model")])
def test_bad_component_is_named(tmp_path, component, code):
    with pytest.raises(AuditError) as info:
        lora_audit.audit(_pipeline(tmp_path), {"target_modules": ["to_q"]}, component=component)
    assert info.value.code == code
    assert "unet" in info.value.message + info.value.hint


def test_component_on_a_single_model_is_refused(cli):
    result = cli(str(TINY / "unet"), "--targets", "to_q", "--component", "unet")
    assert result.code == 2
    assert "component" in result.err


def test_catalogue_pipeline_has_only_the_denoiser(cli):
    result = cli("stabilityai/stable-diffusion-xl-base-1.0", "--component", "text_encoder", "--targets", "q_proj")
    assert result.code == 2
    assert "bundled catalogue" in result.err


def test_missing_diffusers_names_the_extra(cli, monkeypatch):
    monkeypatch.setitem(sys.modules, "diffusers", None)  # import diffusers raises ImportError
    result = cli(str(TINY / "unet"), "--targets", "to_q")
    assert result.code == 2
    assert "pip install 'diffusers>=0.42.1'" in result.err  # the [diffusers] extra's own requirement


def test_task_type_on_a_diffusers_model_is_refused():
    with pytest.raises(AuditError) as info:
        lora_audit.audit(TINY / "unet", {"target_modules": ["to_q"], "task_type": "CAUSAL_LM"})
    assert info.value.code == "task-type-not-applicable"


# --------------------------------------------------------------------------- other libraries
def test_sentence_transformers_directory_audits_its_transformer_module(tmp_path):
    from transformers import AutoConfig, AutoModel

    bert = TINY / "bert-cls" / "config.json"
    (tmp_path / "config.json").write_text(bert.read_text())
    (tmp_path / "modules.json").write_text(json.dumps([
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
    ]))
    report = lora_audit.audit(tmp_path, {"target_modules": ["query", "value"]})
    assert report.model.library == "sentence-transformers"
    assert report.model.component == "."
    assert any("Transformer module" in note for note in report.notes)
    # sentence-transformers loads AutoModel (no head): the same counts as PEFT on that model
    model = AutoModel.from_config(AutoConfig.from_pretrained(tmp_path))
    assert report.model.class_name == type(model).__name__
    peft_model = get_peft_model(model, LoraConfig(target_modules=["query", "value"]))
    trainable, total = peft_model.get_nb_trainable_parameters()
    assert (report.params.trainable, report.params.total) == (trainable, total)


def test_in_memory_diffusers_module_says_diffusers():
    report = lora_audit.audit(_diffusers_model(TINY / "flux"), {"target_modules": ["to_q"]})
    assert report.model.library == "diffusers"


# --------------------------------------------------------------------------- hub
def test_hub_pipeline_fetches_only_the_index_and_the_component_config(fake_hub):
    from lora_audit.model.locate import resolve_model_source

    unet = (TINY / "unet" / "config.json").read_bytes()
    index = {"_class_name": "StableDiffusionPipeline", "unet": ["diffusers", "UNet2DConditionModel"],
             "vae": ["diffusers", "AutoencoderKL"], "scheduler": ["diffusers", "PNDMScheduler"]}
    fake_hub.add("someone/pipe", None, files={
        "model_index.json": json.dumps(index).encode(), "unet/config.json": unet, "vae/config.json": b"{}",
        "unet/diffusion_pytorch_model.safetensors": b"weights",
    })
    source = resolve_model_source("someone/pipe")
    assert (source.kind, source.component, source.config["_class_name"]) == ("hub", "unet", "UNet2DConditionModel")
    assert set(fake_hub.requested_files) == {"config.json", "model_index.json", "unet/config.json"}
    report = lora_audit.audit("someone/pipe", {"target_modules": ["to_q"]})
    assert report.model.component == "unet" and report.params.trainable > 0
    with pytest.raises(AuditError) as info:
        resolve_model_source("someone/pipe", component="scheduler")
    assert info.value.code == "component-not-a-model"


def test_lora_layers_comma_list_with_spaces_is_read_as_diffusers_reads_it(cli, validate):
    """train_dreambooth_lora_flux.py: ``[layer.strip() for layer in args.lora_layers.split(",")]``."""
    result = cli(str(TINY / "flux"), "--targets", "to_k, to_q ,ff.net.0.proj", "--format", "json")
    assert result.code == 0, result.err
    assert [t["pattern"] for t in validate(result.out)["targets"]] == ["to_k", "to_q", "ff.net.0.proj"]


def test_cached_pipeline_is_read_from_the_hf_cache(monkeypatch, tmp_path):
    import huggingface_hub.constants as hub_constants

    from lora_audit.model.locate import resolve_model_source

    commit = "b" * 40
    snapshot = tmp_path / "models--someone--cached-pipe" / "snapshots" / commit
    (snapshot / "unet").mkdir(parents=True)
    (tmp_path / "models--someone--cached-pipe" / "refs").mkdir()
    (tmp_path / "models--someone--cached-pipe" / "refs" / "main").write_text(commit)
    (snapshot / "model_index.json").write_text(json.dumps({"_class_name": "StableDiffusionPipeline",
                                                           "unet": ["diffusers", "UNet2DConditionModel"],
                                                           "vae": ["diffusers", "AutoencoderKL"]}))
    (snapshot / "unet" / "config.json").write_text((TINY / "unet" / "config.json").read_text())
    monkeypatch.setattr(hub_constants, "HF_HUB_CACHE", str(tmp_path))
    source = resolve_model_source("someone/cached-pipe")
    assert (source.kind, source.component) == ("hf-cache", "unet")
    with pytest.raises(AuditError) as info:  # offline, and the vae's config.json was never cached
        resolve_model_source("someone/cached-pipe", component="vae")
    assert info.value.code == "component-not-cached"


def test_3d_parameters_that_are_not_experts_raise_no_expert_findings():
    # Wan's scale_shift_table parameters are (1, 6, 1536) / (1, 2, 1536): not fused MoE experts.
    report = lora_audit.audit("Wan-AI/Wan2.1-T2V-1.3B-Diffusers", {"target_modules": "all-linear"})
    assert report.model.fused_expert_parameters == []
    assert not [f for f in report.findings if f.code in {"LA016", "LA028"}]
