"""Run by the torchtune environment (.ci/torchtune): torchtune's own counts for a LoRA builder, as JSON.

Input on stdin: {"family": "llama3", "builder": "lora_llama3", "kwargs": {...}}. Output: the trainable
parameters torchtune's recipes train (``get_adapter_params`` + ``set_trainable_params``) and, per HF module
name (torchtune's own ``convert_weights._FROM_HF``), the adapter parameters of each LoRALinear.
"""

import importlib
import json
import re
import sys

import torch
from torchtune.models.convert_weights import _FROM_HF
from torchtune.modules.peft import DoRALinear, LoRALinear, get_adapter_params, set_trainable_params

request = json.load(sys.stdin)
builder = getattr(importlib.import_module(f"torchtune.models.{request['family']}"), request["builder"])
torch.manual_seed(0)
model = builder(**request["kwargs"])
set_trainable_params(model, get_adapter_params(model))
trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
to_hf = {re.sub(r"\.weight$", "", tt): re.sub(r"\.weight$", "", hf) for hf, tt in _FROM_HF.items() if tt}
adapted = {}
for name, module in model.named_modules():
    if isinstance(module, (LoRALinear, DoRALinear)):
        template = re.sub(r"\.\d+\.", ".{}.", name)
        index = re.search(r"\.(\d+)\.", name)
        hf = to_hf[template].replace("{}", index.group(1)) if index else to_hf[template]
        adapted[hf] = sum(p.numel() for p in module.parameters() if p.requires_grad)
print(json.dumps({"trainable": trainable, "adapted": adapted}))
