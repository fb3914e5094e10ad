"""Stage 4, measure: counts, per-layer rows and the tree diff read off the adapted model (``counts``), and
the quantization the base trains under (``quantization/``). After this stage nothing holds a torch object.
"""
