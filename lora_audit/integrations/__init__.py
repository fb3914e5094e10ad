"""The one door to outside libraries' private or undocumented internals: one module per library
(``peft``, ``transformers``, ``diffusers``, ``huggingface_hub``). Nothing else in lora_audit touches them.

Each use carries a one-line comment naming the public API the library lacks. ruff's banned-api list
(``pyproject.toml``, TID251) and ``tests/unit/test_private_apis.py`` fail on a private use anywhere else.
"""
