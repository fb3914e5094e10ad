"""Stage 2, the LoRA config: read a file (``loading``), translate it as its framework would (``frontends/``),
and resolve it with the flags into the ``LoraConfig`` PEFT is given (``lora_config``).
"""
