"""Will it fit: the fake-tensor peak equals the same training step on real CPU tensors, by the same tracker.

Each case builds a small model (2-4 layer versions of catalogue architectures, and the tiny fixtures),
runs one step (forward with labels, backward, optimizer step) on real random CPU weights and on fake
tensors, and requires the two peaks to agree within 0.1% (they agree to the byte).
"""

from __future__ import annotations

import pytest
import transformers
from peft import LoraConfig

from lora_audit import audit
from lora_audit.errors import AuditError
from lora_audit.measure.memory.estimate import _extrapolate
from lora_audit.measure.memory.step import Step, run, with_layers
from lora_audit.request import AuditRequest, MemoryRequest
from tests.conftest import MODELS, TINY

QV = dict(r=8, target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM")
ALL = dict(r=8, target_modules="all-linear", task_type="CAUSAL_LM")


def _config(folder, **changes):
    config = transformers.AutoConfig.from_pretrained(folder)
    for key, value in changes.items():
        setattr(config, key, value)
    return config


def _small(folder, layers=2, **changes):
    """A catalogue architecture cut to ``layers`` layers and narrow widths (its own model code, small tensors)."""
    config = with_layers(_config(folder), layers)
    for key, value in {"hidden_size": 64, "intermediate_size": 128, "num_attention_heads": 4,
                       "num_key_value_heads": 2, "head_dim": 16, **changes}.items():
        setattr(config, key, value)
    return config


CASES = {
    "qwen2-fp32-qv": (TINY / "qwen2", {}, QV, dict(precision="fp32")),
    "qwen2-bf16-all-linear": (TINY / "qwen2", {}, ALL, dict(precision="bf16")),
    "qwen2-bf16-reentrant": (TINY / "qwen2", {}, ALL, dict(precision="bf16", gradient_checkpointing="reentrant")),
    "qwen2-fp32-non-reentrant": (TINY / "qwen2", {}, QV, dict(gradient_checkpointing="non-reentrant")),
    "qwen2-autocast-eager": (TINY / "qwen2", {}, QV, dict(precision="bf16-autocast", attention="eager")),
    "qwen2-saved-head": (TINY / "qwen2", {}, dict(QV, modules_to_save=["lm_head"]), dict(precision="fp32")),
    "qwen2-128k-vocab": (TINY / "qwen2", {"vocab_size": 131_072}, QV, dict(precision="bf16")),
    "qwen2-sgd-batch4": (TINY / "qwen2", {}, ALL, dict(optimizer="sgd", batch=4)),
    "llama3-4-layers-fused": (MODELS / "meta-llama--Meta-Llama-3-8B", "small4", ALL,
                              dict(precision="bf16", optimizer="adamw_torch_fused")),
    # bitsandbytes' own 8-bit AdamW: r=64 on width 64 makes lora_A 4,096 elements, bitsandbytes' min_8bit_size
    # (uint8 states); the saved embedding stays in 32-bit as the HF Trainer asks (an nn.Embedding).
    "llama3-2-layers-adamw-8bit": (MODELS / "meta-llama--Meta-Llama-3-8B", "small2",
                                   dict(QV, r=64, modules_to_save=["embed_tokens"]),
                                   dict(precision="bf16", optimizer="adamw_8bit")),
    "mistral-2-layers-checkpointed": (MODELS / "mistralai--Mistral-7B-v0.1", "small2", QV,
                                      dict(precision="bf16", gradient_checkpointing="non-reentrant")),
}


def _step(**changes) -> Step:
    values = dict(batch=2, seq_len=48, precision="fp32", optimizer="adamw_torch", gradient_checkpointing="off",
                  attention="sdpa")
    values.update(changes)
    return Step(**values)


#: Cases of more than a few seconds run with the slow tests (pytest -m slow; CI runs both).
SLOW_CASES = {"qwen2-128k-vocab"}


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n in SLOW_CASES else n
                                  for n in sorted(CASES)])
def test_the_fake_peak_is_the_real_peak(name):
    folder, changes, lora, step_changes = CASES[name]
    if changes in ("small2", "small4"):
        config = _small(folder, layers=int(changes[-1]), vocab_size=1024)
    else:
        config = _config(folder, **changes)
    cls = getattr(transformers, config.architectures[0])
    step = _step(**step_changes)
    fake = run(cls, config, LoraConfig(**lora), step)
    real = run(cls, config, LoraConfig(**lora), step, real=True)
    assert abs(fake.peak - real.peak) <= real.peak / 1000, (fake.peak, real.peak)
    assert fake.phase == real.phase
    assert fake.peak == real.peak  # in fact, to the byte
    assert fake.flops == real.flops > 0  # FlopCounterMode on the same ops


@pytest.mark.slow  # several seconds: the slow run has it
def test_two_and_four_layers_extrapolate_to_the_full_fake_run():
    config = _small(MODELS / "Qwen--Qwen2.5-0.5B", layers=12, vocab_size=2048)
    cls = transformers.Qwen2ForCausalLM
    step = _step(precision="bf16", optimizer="adamw_torch_fused")
    lora = LoraConfig(**ALL)
    two, four = run(cls, with_layers(config, 2), lora, step), run(cls, with_layers(config, 4), lora, step)
    full = run(cls, config, lora, step)
    extrapolated = _extrapolate(two, four, 12)
    assert extrapolated is not None and extrapolated.peak == full.peak
    assert extrapolated.flops == full.flops
    assert extrapolated.breakdown == {k: v for k, v in full.breakdown.items() if v or k in extrapolated.breakdown}


def test_the_audit_reports_memory_with_its_inputs_and_a_verdict(validate):
    report = audit(AuditRequest("meta-llama/Meta-Llama-3-8B", {"r": 16, "target_modules": "all-linear"},
                                memory=MemoryRequest(batch=1, seq_len=512, precision="bf16",
                                                     gpus=("RTX4090", "A100-80GB"))))
    memory = report.memory
    assert memory.extrapolated and memory.layers_run == [2, 4]
    # the frozen bf16 weights alone are the checkpoint's 8,030,261,248 parameters at 2 bytes
    assert memory.breakdown["frozen_weights"] == 2 * 8_030_261_248
    assert [f.fits for f in memory.fits] == [True, True]
    assert memory.utilisation == 0.4
    assert memory.fits[1].step_seconds == round(memory.flops_per_step / (312e12 * 0.4), 4)
    assert {i.name: i.source for i in memory.inputs}["optimizer"].startswith("default (the HF Trainer's")
    validate(report.to_dict())


@pytest.mark.slow  # several seconds: the slow run has it
def test_a_run_that_does_not_fit_is_an_error_naming_the_change(cli):
    result = cli("meta-llama/Meta-Llama-3-8B", "--targets", "all-linear", "--memory", "--seq-len", "2048",
                 "--batch", "1", "--gpu", "RTX4090", "--format", "json")
    data = result.json()
    assert result.code == 1
    la060 = [f for f in data["findings"] if f["code"] == "LA060"]
    assert la060 and la060[0]["subject"] == "RTX4090" and "4-bit" in la060[0]["hint"]
    assert data["memory"]["fits"][0]["fits"] is False
    # the change was run: its own peak fits the card
    change = data["memory"]["change"]
    assert change["change"].startswith("--gradient-checkpointing non-reentrant, 4-bit weights")
    assert change["peak_bytes"] <= 24 * (1 << 30) < data["memory"]["peak_bytes"]


@pytest.mark.slow  # several seconds: the slow run has it
def test_qlora_storage_is_counted_at_bitsandbytes_sizes():
    report = audit(AuditRequest("meta-llama/Meta-Llama-3-8B", {"r": 16, "target_modules": "all-linear"},
                                quantization_request={"method": "bitsandbytes", "bits": 4},
                                memory=MemoryRequest(batch=1, seq_len=256, precision="bf16")))
    memory = report.memory
    assert memory.peak_bytes is not None
    plain = audit(AuditRequest("meta-llama/Meta-Llama-3-8B", {"r": 16, "target_modules": "all-linear"},
                               memory=MemoryRequest(batch=1, seq_len=256, precision="bf16"))).memory
    assert memory.breakdown["frozen_weights"] < plain.breakdown["frozen_weights"]
    assert any(i.name == "prepare_model_for_kbit_training" for i in memory.inputs)
    # Independently: every Linear but lm_head in nf4 (packed + fp32 absmax per 64 + a 16-entry code), everything
    # else upcast to fp32 by prepare_model_for_kbit_training; counted on the model transformers builds.
    import torch

    config = transformers.AutoConfig.from_pretrained(MODELS / "meta-llama--Meta-Llama-3-8B")
    with torch.device("meta"):
        model = transformers.LlamaForCausalLM(config)
    quantized = other = 0
    for name, module in model.named_modules():
        if isinstance(module, torch.nn.Linear) and name != "lm_head":
            n = module.weight.numel()
            quantized += -(-n // 2) + 4 * -(-n // 64) + 64
        else:
            other += sum(p.numel() for p in module.parameters(recurse=False))
    assert memory.breakdown["frozen_weights"] == quantized + 4 * other


def test_inputs_come_from_the_script_and_flags_win(tmp_path):
    (tmp_path / "train.py").write_text(
        "from peft import LoraConfig\nfrom transformers import AutoModelForCausalLM, TrainingArguments\n"
        "model = AutoModelForCausalLM.from_pretrained('Qwen/Qwen2.5-0.5B')\n"
        "cfg = LoraConfig(r=8, target_modules=['q_proj'])\n"
        "args = TrainingArguments(output_dir='o', per_device_train_batch_size=2, max_length=128, bf16=True)\n")
    report = audit(AuditRequest(None, config_file=tmp_path / "train.py",
                                memory=MemoryRequest(seq_len=64)))
    sources = {i.name: (i.value, i.source) for i in report.memory.inputs}
    assert sources["batch"][0] == 2 and "train.py:5" in sources["batch"][1]
    assert sources["precision"][0] == "bf16"
    assert sources["seq_len"] == (64, "--seq-len")


def test_without_a_sequence_length_the_estimate_says_which_flag_gives_it():
    with pytest.raises(AuditError) as caught:
        audit(AuditRequest("Qwen/Qwen2.5-0.5B", {"r": 8}, memory=MemoryRequest(batch=1)))
    assert caught.value.code == "usage" and "--seq-len" in caught.value.hint


def test_a_model_that_is_not_a_causal_lm_is_not_modelled_and_says_so():
    report = audit(AuditRequest("google-bert/bert-base-uncased", {"r": 8, "target_modules": ["query"]},
                                memory=MemoryRequest(batch=1, seq_len=64)))
    assert report.memory.peak_bytes is None and "causal language models" in report.memory.refused


def test_memory_flags_without_memory_are_a_usage_error(cli):
    result = cli("Qwen/Qwen2.5-0.5B", "--seq-len", "128")
    assert result.code == 2 and "add --memory" in result.err


def _real_qlora_peak(cls, config, lora: dict, step: Step, double_quant: bool) -> int:
    """The same step with real bitsandbytes 4-bit layers on the CPU, prepared and adapted as a QLoRA script does."""
    import torch

    bnb = pytest.importorskip("bitsandbytes")
    from peft import get_peft_model, prepare_model_for_kbit_training

    from lora_audit.integrations import transformers as transformers_private
    from lora_audit.measure.memory.step import _optimizer, _train_step
    from lora_audit.measure.memory.tracker import storage_tracker

    torch.manual_seed(0)
    config.use_cache = False
    model = transformers_private.from_config(cls, config, dtype=torch.bfloat16, attn_implementation=step.attention)
    for name, module in list(model.named_modules()):
        for child_name, child in list(module.named_children()):
            if type(child) is torch.nn.Linear and f"{name}.{child_name}".lstrip(".") != "lm_head":
                layer = bnb.nn.Linear4bit(child.in_features, child.out_features, bias=child.bias is not None,
                                          compute_dtype=torch.bfloat16, compress_statistics=double_quant,
                                          quant_type="nf4", device="meta")
                layer.weight = bnb.nn.Params4bit(child.weight.data, requires_grad=False,
                                                 compress_statistics=double_quant, quant_type="nf4")
                if child.bias is not None:
                    layer.bias = child.bias
                setattr(module, child_name, layer.to("cpu"))
    model.is_loaded_in_4bit = True
    model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=False)
    model = get_peft_model(model, LoraConfig(**lora))
    state = []
    for module in model.modules():
        quant = getattr(getattr(module, "weight", None), "quant_state", None)
        if quant is not None:
            state += [quant.absmax, quant.code]
            if quant.nested:
                state += [quant.state2.absmax, quant.state2.code, quant.offset]
    tracker = storage_tracker()
    tracker.register_model(model, state)
    with _optimizer(step, model, None, torch.device("cpu")) as optimizer, tracker:
        _train_step(model, tracker, step, config.vocab_size, torch.device("cpu"), optimizer)
    return tracker.peak


@pytest.mark.parametrize("double_quant", [False, True])
def test_qlora_emulation_is_within_half_a_percent_of_real_bitsandbytes(double_quant):
    config = _config(TINY / "qwen2", vocab_size=1024)
    cls = transformers.Qwen2ForCausalLM
    step = _step(precision="bf16", quantization={"double_quant": double_quant, "compute_dtype": "bf16",
                                                 "skip": ["lm_head"]})
    fake = run(cls, config, LoraConfig(**ALL), step)
    real = _real_qlora_peak(cls, _config(TINY / "qwen2", vocab_size=1024), ALL, step, double_quant)
    assert abs(fake.peak - real) <= real * 0.005, (fake.peak, real)


@pytest.mark.slow  # several seconds: the slow run has it
def test_framework_configs_give_their_training_keys_and_what_is_not_read_is_asked_for(cli):
    from tests.conftest import FIXTURES

    trl_file = FIXTURES / "trl" / "zephyr-sft-config_qlora.yaml"
    result = cli("mistralai/Mistral-7B-v0.1", "--config", trl_file, "--memory", "--format", "json")
    inputs = {i["name"]: i for i in result.json()["memory"]["inputs"]}
    assert inputs["seq_len"]["value"] == 2048 and "(max_seq_length)" in inputs["seq_len"]["source"]
    assert inputs["batch"]["value"] == 4 and "(per_device_train_batch_size)" in inputs["batch"]["source"]
    assert inputs["precision"]["value"] == "bf16"
    axolotl = cli("meta-llama/Llama-2-7b-hf", "--config", FIXTURES / "axolotl" / "llama-2-lora.yml", "--memory")
    assert axolotl.code == 2 and "needs --gradient-checkpointing for this axolotl config" in axolotl.err
    factory = cli("meta-llama/Meta-Llama-3-8B", "--config", FIXTURES / "llamafactory" / "llama3_lora_sft.yaml",
                  "--memory")
    assert factory.code == 2 and "for this llamafactory config" in factory.err
    given = cli("meta-llama/Meta-Llama-3-8B", "--config", FIXTURES / "llamafactory" / "llama3_lora_sft.yaml",
                "--memory", "--gradient-checkpointing", "reentrant", "--format", "json")
    sources = {i["name"]: i["source"] for i in given.json()["memory"]["inputs"]}
    assert "(cutoff_len)" in sources["seq_len"] and sources["gradient_checkpointing"] == "--gradient-checkpointing"


def test_the_step_flops_are_what_torchs_flop_counter_counts():
    """With eager attention every op has a formula in torch itself: the tracker's count equals FlopCounterMode's."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from lora_audit.integrations import transformers as transformers_private
    from lora_audit.measure.memory.step import STEPS, _optimizer, _train_step
    from lora_audit.measure.memory.tracker import storage_tracker

    config = _config(TINY / "qwen2")
    config.use_cache = False
    step = _step(attention="eager")
    ours = run(transformers.Qwen2ForCausalLM, config, LoraConfig(**ALL), step, real=True).flops
    from peft import get_peft_model

    torch.manual_seed(0)
    model = get_peft_model(transformers_private.from_config(transformers.Qwen2ForCausalLM, config,
                                                            dtype=torch.float32, attn_implementation="eager"),
                           LoraConfig(**ALL))
    with _optimizer(step, model, None, torch.device("cpu")) as optimizer, FlopCounterMode(display=False) as counter:
        _train_step(model, storage_tracker(), step, config.vocab_size, torch.device("cpu"), optimizer)
    assert ours * STEPS == counter.get_total_flops() > 0  # the same ops each step: one step's FLOPs reported


def test_adamw_8bit_is_bitsandbytes_own_state_with_the_trainers_32bit_embeddings():
    """uint8 moments and a per-256-block absmax from min_8bit_size (4,096) up; fp32 below it and for nn.Embedding."""
    import torch

    from lora_audit.integrations.bitsandbytes import adamw_8bit

    pytest.importorskip("bitsandbytes")
    big, small, embedding = (torch.nn.Parameter(torch.zeros(64, 64)), torch.nn.Parameter(torch.zeros(4095)),
                             torch.nn.Embedding(100, 64))
    for p in (big, small, embedding.weight):
        p.grad = torch.ones_like(p)
    with adamw_8bit([big, small, embedding.weight], [embedding.weight], None, lr=1e-4) as optimizer:
        optimizer.step()
        state = optimizer.state
        assert state[big]["state1"].dtype == torch.uint8 and state[big]["absmax1"].shape == (16,)
        assert state[small]["state1"].dtype == torch.float32
        assert state[embedding.weight]["state1"].dtype == torch.float32  # the HF Trainer's override
    import bitsandbytes as bnb

    assert id(embedding.weight) not in bnb.optim.GlobalOptimManager.get_instance().pid2config  # not left behind


def test_adamw_8bit_is_named_by_its_aliases_and_needs_bitsandbytes(monkeypatch):
    from lora_audit.measure.memory import estimate

    assert estimate._checked("optimizer", "adamw_bnb_8bit", "optim") == "adamw_8bit"
    monkeypatch.setattr(estimate.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(AuditError) as caught:
        estimate._checked("optimizer", "adamw_8bit", "--optimizer")
    assert caught.value.code == "missing-dependency"


def test_the_peak_is_the_second_steps_with_the_optimizer_state_alive():
    """Every step after the first runs forward and backward with the AdamW moments the first step created."""
    config = _config(TINY / "qwen2")
    cls = transformers.Qwen2ForCausalLM
    lora = LoraConfig(**dict(QV, modules_to_save=["lm_head"]))
    result = run(cls, config, lora, _step(optimizer="adamw_torch"))
    assert result.phase in ("forward", "backward")
    trainable = sum(p.numel() for p in _peft_parameters(cls, config, lora) if p.requires_grad)
    assert result.breakdown["optimizer"] >= 2 * 4 * trainable  # exp_avg and exp_avg_sq in fp32, alive at the peak


def _peft_parameters(cls, config, lora):
    import torch
    from peft import get_peft_model

    with torch.device("meta"):
        model = cls(config)
    return list(get_peft_model(model, lora).parameters())
