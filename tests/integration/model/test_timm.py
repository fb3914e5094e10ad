"""timm models: config.json with ``architecture``, built by timm's own ``create_model("local-dir:...")``.

The tests marked ``timm`` need timm, and timm needs a torchvision that imports beside the installed
torch. The CPU torch 2.13.0 this project installs has none (PyPI's torchvision fails with
"operator torchvision::nms does not exist"), so in the main environment they are skipped, and
``.ci/timm`` runs them in an environment of its own (torch 2.14.1 + torchvision 0.29.1) with
``LORA_AUDIT_REQUIRE_TIMM=1``, which turns the skip into a failure. The error-path tests at the end
need no timm and run everywhere.
"""

from __future__ import annotations

import json
import os
import sys

import pytest

import lora_audit
from lora_audit.errors import AuditError
from tests.conftest import FIXTURES

TIMM = FIXTURES / "timm"
VIT = TIMM / "vit_base_patch16_224.augreg2_in21k_ft_in1k"
VIT_TINY = TIMM / "vit_tiny_patch16_224.augreg_in21k_ft_in1k"
RESNET = TIMM / "resnet50.a1_in1k"


@pytest.fixture
def timm():
    if os.environ.get("LORA_AUDIT_REQUIRE_TIMM") == "1":
        import timm as module  # must import: this run exists to test timm
    else:
        try:
            import timm as module
        except Exception as exc:  # noqa: BLE001 - ImportError, or a torchvision whose ops do not load
            pytest.skip(f"timm does not import here ({type(exc).__name__}); .ci/timm runs these tests")
    return module


def _timm_meta(timm, directory, **kwargs):
    import torch

    with torch.device("meta"):
        return timm.create_model(f"local-dir:{directory}", pretrained=False, **kwargs)


def _peft_counts(model, lora: dict) -> tuple[int, int]:
    from peft import LoraConfig, get_peft_model

    peft_model = get_peft_model(model, LoraConfig(**lora), low_cpu_mem_usage=True)
    params = list(peft_model.parameters())
    return sum(p.numel() for p in params if p.requires_grad), sum(p.numel() for p in params)


# --------------------------------------------------------------------------- with timm
@pytest.mark.timm
@pytest.mark.parametrize(
    ("directory", "published"),
    [(VIT, 86_567_656), (RESNET, 25_557_032)],  # timm's model cards: 86.6M and 25.6M
)
def test_base_count_equals_timms_own_model(timm, directory, published):
    report = lora_audit.audit(directory, {"target_modules": ["fc1"] if directory == VIT else ["fc"]})
    own = sum(p.numel() for p in _timm_meta(timm, directory).parameters())
    assert report.model.base_params == own == published
    assert (report.model.library, report.model.library_version) == ("timm", timm.__version__)
    assert report.model.model_type == json.loads((directory / "config.json").read_text())["architecture"]


@pytest.mark.timm
@pytest.mark.parametrize(
    ("directory", "lora", "trainable"),
    [
        # `proj` also matches the patch embedding, a Conv2d(3, 768, 16x16): a classic timm surprise
        (VIT, {"target_modules": ["qkv", "proj"], "r": 8}, 454_656),
        (VIT, {"target_modules": "all-linear", "r": 8}, 1_193_792),
        (VIT, {"target_modules": ["qkv"], "r": 16, "modules_to_save": ["head"]}, 1_358_824),
        (RESNET, {"target_modules": ["conv2"], "r": 8}, 302_080),
    ],
)
def test_trainable_equals_peft_on_timms_own_meta_model(timm, directory, lora, trainable):
    report = lora_audit.audit(directory, dict(lora))
    peft_trainable, peft_total = _peft_counts(_timm_meta(timm, directory), dict(lora))
    assert report.params.trainable == peft_trainable == trainable
    assert report.params.total == peft_total


@pytest.mark.timm
def test_proj_reaches_the_patch_embedding_conv_and_is_shown_with_its_kernel(timm):
    report = lora_audit.audit(VIT, {"target_modules": ["qkv", "proj"], "r": 8})
    patch = next(row for row in report.adapted_modules if row.name == "patch_embed.proj")
    assert (patch.in_features, patch.kernel_size, patch.out_features) == (3, [16, 16], 768)
    assert patch.lora_params == 8 * (3 * 16 * 16 + 768)
    assert not [f for f in report.findings if f.code == "LA007"]  # k is 3·16·16, not 3
    la051 = next(f for f in report.findings if f.code == "LA051")  # the conv came along by accident
    assert la051.subject == "proj" and "12 Linear and 1 Conv2d" in la051.message
    assert "--exclude-modules patch_embed.proj" in la051.hint
    # cls_token and pos_embed are 3-D (1, N, 768) parameters, not fused MoE experts
    wide = lora_audit.audit(VIT, {"target_modules": "all-linear"})
    assert wide.model.fused_expert_parameters == []
    assert not [f for f in wide.findings if f.code in {"LA016", "LA028"}]


@pytest.mark.timm
@pytest.mark.parametrize(
    ("directory", "lora"),
    [
        (VIT_TINY, {"target_modules": ["qkv", "fc1", "fc2"], "r": 4}),
        (VIT_TINY, {"target_modules": "all-linear", "r": 4, "use_dora": True}),
        (RESNET, {"target_modules": ["conv1", "conv2", "conv3"], "r": 4, "modules_to_save": ["fc"]}),
    ],
)
def test_meta_counts_equal_peft_on_a_materialised_timm_model(timm, directory, lora):
    """Real CPU weights, timm's own create_model, plain get_peft_model: every count must agree."""
    import torch
    from peft import LoraConfig, get_peft_model

    torch.manual_seed(0)
    model = timm.create_model(f"local-dir:{directory}", pretrained=False)
    peft_model = get_peft_model(model, LoraConfig(**lora))
    params = list(peft_model.parameters())
    assert all(p.device.type == "cpu" for p in params)
    report = lora_audit.audit(directory, dict(lora))
    assert report.params.trainable == sum(p.numel() for p in params if p.requires_grad)
    assert report.params.total == sum(p.numel() for p in params)
    adapted = {name.removeprefix("base_model.model.") for name, m in peft_model.named_modules() if hasattr(m, "lora_A")}
    assert {row.name for row in report.adapted_modules} == adapted


@pytest.mark.timm
@pytest.mark.parametrize(
    "architecture",
    ["efficientnet_b0", "mobilenetv3_large_100", "convnextv2_atto", "swin_tiny_patch4_window7_224", "levit_128",
     "edgenext_small"],
)
def test_other_families_build_on_meta_as_timm_builds_them_on_cpu(timm, tmp_path, architecture):
    """A config naming only the architecture, as older hub repositories have it."""
    from peft import LoraConfig, get_peft_model

    (tmp_path / "config.json").write_text(json.dumps({"architecture": architecture, "num_classes": 1000}))
    report = lora_audit.audit(tmp_path, {"target_modules": "all-linear", "r": 4})
    model = timm.create_model(architecture, pretrained=False, num_classes=1000)
    assert report.model.base_params == sum(p.numel() for p in model.parameters())
    params = list(get_peft_model(model, LoraConfig(target_modules="all-linear", r=4)).parameters())
    assert report.params.trainable == sum(p.numel() for p in params if p.requires_grad) > 0
    assert report.params.total == sum(p.numel() for p in params)


@pytest.mark.timm
def test_num_classes_and_model_args_are_read_as_timm_reads_them(timm, tmp_path):
    config = json.loads((VIT / "config.json").read_text())
    config["num_classes"] = 10
    config["model_args"] = {**config.get("model_args", {}), "num_classes": 10, "depth": 6}
    (tmp_path / "vit-10.json").write_text(json.dumps(config))  # any file name
    report = lora_audit.audit(tmp_path / "vit-10.json", {"target_modules": ["head"]})
    import shutil

    shutil.copy(tmp_path / "vit-10.json", tmp_path / "config.json")
    own = _timm_meta(timm, tmp_path)
    assert report.model.base_params == sum(p.numel() for p in own.parameters())
    assert [(row.in_features, row.out_features) for row in report.adapted_modules] == [(768, 10)]
    assert len(own.blocks) == 6


@pytest.mark.timm
def test_cli_names_timm_and_its_version(timm, cli):
    result = cli(str(RESNET), "--targets", "conv2", "-r", "8")
    assert result.code == 0, result.err
    assert f"ResNet (timm {timm.__version__}), 25,557,032 parameters" in result.out
    assert "timm: built resnet50 with timm.create_model(pretrained=False), 1000 classes" in result.out
    data = json.loads(cli(str(RESNET), "--targets", "conv2", "--format", "json").out)
    assert (data["model"]["library"], data["model"]["class_name"]) == ("timm", "ResNet")


@pytest.mark.timm
def test_hub_timm_repo_fetches_only_its_config(timm, fake_hub):
    fake_hub.add("timm/resnet50.a1_in1k", json.loads((RESNET / "config.json").read_text()),
                 files={"model.safetensors": b"weights", "pytorch_model.bin": b"pickle"})
    report = lora_audit.audit("timm/resnet50.a1_in1k", {"target_modules": ["conv2"], "r": 8})
    assert report.model.library == "timm" and report.params.trainable == 302_080
    assert set(fake_hub.requested_files) == {"config.json"}  # no weights, no pickle


@pytest.mark.timm
def test_unknown_architecture_and_transformers_flags_are_refused(timm, tmp_path, cli):
    (tmp_path / "config.json").write_text(json.dumps({"architecture": "resnet_made_up_9000", "num_classes": 5}))
    with pytest.raises(AuditError) as info:
        lora_audit.audit(tmp_path, {"target_modules": ["fc"]})
    assert info.value.code == "unknown-timm-model"
    result = cli(str(RESNET), "--targets", "fc", "--task-type", "SEQ_CLS")
    assert result.code == 2 and "timm model" in result.err and "Traceback" not in result.err


@pytest.mark.timm
def test_broken_model_args_are_a_build_error_not_a_traceback(timm, tmp_path, cli):
    config = json.loads((VIT / "config.json").read_text())
    config["model_args"] = {"embed_dim": 770, "num_heads": 12}  # 770 is not divisible by 12 heads
    (tmp_path / "config.json").write_text(json.dumps(config))
    result = cli(str(tmp_path), "--targets", "qkv")
    assert result.code == 2, result.out
    assert "build-failed" in result.err or "building timm model" in result.err
    assert result.err.count("\n") == 1


# --------------------------------------------------------------------------- without timm
def _hide_timm(monkeypatch, tmp_path, body: str | None) -> None:
    """Make ``import timm`` fail: absent (``body`` None) or a package whose import raises ``body``."""
    for name in [n for n in sys.modules if n == "timm" or n.startswith("timm.")]:
        monkeypatch.delitem(sys.modules, name)
    if body is None:
        monkeypatch.setitem(sys.modules, "timm", None)
        return
    package = tmp_path / "shadow" / "timm"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(body)
    monkeypatch.syspath_prepend(str(tmp_path / "shadow"))


def test_missing_timm_names_the_extra(monkeypatch, tmp_path, cli):
    _hide_timm(monkeypatch, tmp_path, None)
    with pytest.raises(AuditError) as info:
        lora_audit.audit(RESNET, {"target_modules": ["fc"]})
    assert info.value.code == "library-missing"
    assert "timm model (resnet50)" in info.value.message
    assert "pip install 'timm>=1.0.16'" in info.value.hint  # the [timm] extra's own requirement
    result = cli(str(RESNET), "--targets", "fc")
    assert result.code == 2 and "timm>=1.0.16" in result.err and "Traceback" not in result.err


def test_a_torchvision_that_does_not_load_is_named(monkeypatch, tmp_path):
    # What PyPI's torchvision does beside the CPU torch 2.13.0 wheel, raised at `import timm`.
    _hide_timm(monkeypatch, tmp_path, 'raise RuntimeError("operator torchvision::nms does not exist")')
    with pytest.raises(AuditError) as info:
        lora_audit.audit(RESNET, {"target_modules": ["fc"]})
    assert info.value.code == "library-missing"
    assert "torchvision::nms" in info.value.message
    assert "torchvision" in info.value.hint


def test_too_old_timm_is_named(monkeypatch, tmp_path):
    _hide_timm(monkeypatch, tmp_path, '__version__ = "0.9.16"\n')
    with pytest.raises(AuditError) as info:
        lora_audit.audit(RESNET, {"target_modules": ["fc"]})
    assert info.value.code == "library-missing"
    assert "0.9.16 is too old" in info.value.message and "1.0.16" in info.value.message
