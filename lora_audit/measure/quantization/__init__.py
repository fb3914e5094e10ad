"""The quantization a base model is trained under: PEFT's backends (``backends``), the request and
config.json's block combined (``describe``), and which adapted modules stay quantized (``classify``).

Parameter counts stay logical (from shapes): nothing here changes how the meta model is built or counted.
"""
