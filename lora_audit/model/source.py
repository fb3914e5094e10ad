"""A located ``config.json``: where it came from and what it says (:class:`ModelSource`).

The data type and the file names every locator shares; :mod:`~lora_audit.model.locate` finds one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

CONFIG_NAME = "config.json"
#: a diffusers pipeline's list of components; and sentence-transformers' list of modules
INDEX_NAME = "model_index.json"
MODULES_NAME = "modules.json"
#: A single HEAD request to the hub, without retries: an unreachable hub must not cost 20 s.
DEFAULT_HUB_TIMEOUT = 5.0
#: A config.json is kilobytes (the largest, with a 20k-label id2label, a few MB). Reading stops past
#: this, so a mistaken multi-GB file costs a moment, not all the memory; transformers copies a config
#: several times while loading it, so a 60 MB one would cost minutes and gigabytes.
MAX_CONFIG_BYTES = 16 * 1024 * 1024
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".gguf", ".h5", ".msgpack", ".pkl", ".onnx")


@dataclass
class ModelSource:
    """A located config.json: where it came from and what it says."""

    name: str  #: what the user passed
    kind: str  #: local-dir | local-file | hf-cache | hub | catalogue
    description: str  #: readable: the path, or ``hub Qwen/Qwen2.5-0.5B@main``...
    config_path: Path
    config: dict[str, Any]
    repo_id: str | None = None
    revision: str | None = None
    #: why the catalogue was used instead of the hub (offline, gated, unreachable)
    fallback_reason: str | None = None
    #: for a diffusers pipeline (model_index.json): the component audited, and the index itself
    component: str | None = None
    pipeline_index: dict[str, Any] | None = None
    #: the library a wrapper file names (modules.json -> sentence-transformers), when config.json alone cannot
    library_hint: str | None = None
