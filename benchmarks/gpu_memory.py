"""For a machine with a GPU: the same training step for real on CUDA, beside lora-audit's prediction.

usage: python benchmarks/gpu_memory.py

For each case it runs the step on CUDA with random weights and prints torch.cuda.max_memory_allocated
and max_memory_reserved next to the fake-tensor prediction (the same code path as --memory), and the
ratios. Without a GPU it says so and exits 0: CI runs on CPUs. It has not been run on a GPU yet.
"""

from __future__ import annotations

import sys

import torch
import transformers
from peft import LoraConfig, get_peft_model

from lora_audit.measure.memory.step import Step, run, with_layers
from lora_audit.model.catalogue import find

QV = dict(r=8, target_modules=["q_proj", "v_proj"])
ALL = dict(r=16, target_modules="all-linear")
CASES = [
    ("Qwen/Qwen2.5-0.5B", None, QV, Step(1, 1024, "bf16", "adamw_torch_fused", "off", "sdpa")),
    ("Qwen/Qwen2.5-0.5B", None, ALL, Step(2, 2048, "bf16", "adamw_torch", "non-reentrant", "sdpa")),
    ("meta-llama/Meta-Llama-3-8B", 4, ALL, Step(1, 2048, "bf16", "adamw_torch_fused", "off", "sdpa")),
]
DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


def measured(cls: type, config, lora: LoraConfig, step: Step) -> tuple[int, int]:
    device = torch.device("cuda")
    dtype = DTYPES.get(step.precision, torch.float32)
    model = cls._from_config(config, dtype=dtype, attn_implementation=step.attention).to(device)
    model = get_peft_model(model, lora)
    if step.gradient_checkpointing != "off":
        model.get_base_model().activation_checkpointing_enable(
            activation_checkpointing_kwargs={"use_reentrant": step.gradient_checkpointing == "reentrant"})
    warm = torch.nn.Linear(64, 64, device=device)  # the cuBLAS workspace, before the baseline
    warm(torch.randn(1, 64, device=device)).sum().backward()
    del warm
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    parameters = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(parameters, fused=step.optimizer == "adamw_torch_fused",
                                  foreach=step.optimizer == "adamw_torch" or None)
    vocab = (getattr(config, "text_config", None) or config).vocab_size
    ids = torch.randint(0, vocab, (step.batch, step.seq_len), device=device)
    autocast = {"bf16": torch.bfloat16, "fp16": torch.float16, "bf16-autocast": torch.bfloat16}.get(step.precision)
    with torch.autocast("cuda", dtype=autocast, enabled=autocast is not None):
        loss = model(input_ids=ids, labels=ids, use_cache=False).loss
    loss.backward()
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    torch.cuda.synchronize()
    return torch.cuda.max_memory_allocated(), torch.cuda.max_memory_reserved()


def main() -> int:
    if not torch.cuda.is_available():
        print("gpu_memory: no CUDA device here: nothing measured (this check needs a GPU)")
        return 0
    print("model\tlayers\tpredicted\tmax_allocated\tmax_reserved\tpredicted/allocated")
    for model_id, layers, fields, step in CASES:
        config = transformers.AutoConfig.from_pretrained(find(model_id).parent)
        if layers is not None:
            config = with_layers(config, layers)
        config.use_cache = False
        cls = getattr(transformers, config.architectures[0])
        predicted = run(cls, config, LoraConfig(task_type="CAUSAL_LM", **fields), step)
        allocated, reserved = measured(cls, config, LoraConfig(task_type="CAUSAL_LM", **fields), step)
        ratio = predicted.peak / allocated
        print(f"{model_id}\t{layers or 'all'}\t{predicted.peak}\t{allocated}\t{reserved}\t{ratio:.4f}")
        torch.cuda.empty_cache()
    return 0


if __name__ == "__main__":
    sys.exit(main())
