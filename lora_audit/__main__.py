"""``python -m lora_audit`` is the ``lora-audit`` command."""

from .cli import main

main()
