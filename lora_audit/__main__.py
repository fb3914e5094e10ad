"""``python -m lora_audit`` is the ``lora-audit`` command."""

from lora_audit.cli import main

main()
