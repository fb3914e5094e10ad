"""The one door to outside libraries' private or undocumented internals: one module per library
(``peft``, ``transformers``, ``diffusers``, ``huggingface_hub``). Nothing else in lora_audit touches them.
"""
