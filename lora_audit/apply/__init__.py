"""Stage 3, apply: PEFT itself adapts the meta model (``adapt``), after the base's tree is recorded
(``snapshot``); which module each entry reaches is asked of PEFT (``matching``), and an entry PEFT refuses is
found and dropped (``retry``).
"""
