"""Saved adapters: find one (local or hub), read its tensor table from the safetensors header,
and compare it with the keys and shapes PEFT creates for its config on a base model.

``source`` finds the files, ``header`` reads only headers, ``formats`` names non-PEFT LoRA files,
``compare`` builds ``Report.adapter``, ``diff`` compares two adapters or configs.
"""

from __future__ import annotations

from lora_audit.adapter.compare import adapter_facts, base_dims
from lora_audit.adapter.source import AdapterFile, load_adapter

__all__ = ["AdapterFile", "adapter_facts", "base_dims", "load_adapter"]
