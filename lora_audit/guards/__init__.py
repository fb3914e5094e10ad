"""What an audit may cost, checked before and while it runs: wall time and memory (``budget``), numbers
from inputs (``numbers``), user regexes against the model's names (``regex``).
"""
