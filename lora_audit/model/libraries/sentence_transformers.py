"""sentence-transformers models: a directory whose ``modules.json`` lists a ``models.Transformer`` module.

PEFT adapts that module's transformers model (``SentenceTransformer.add_adapter`` forwards to
``model[0].auto_model``), so the audit builds exactly the class sentence-transformers loads there:
``T5EncoderModel`` / ``MT5EncoderModel`` for T5 / MT5 configs, else ``AutoModel`` (the bare model,
no task head), as ``sentence_transformers/models/Transformer.py`` ``_load_model`` does (read in
sentence-transformers 2.x-4.x). sentence-transformers itself is not imported: pooling and
normalisation modules have no weights LoRA adapts.
"""

from __future__ import annotations

from typing import Any

from lora_audit.model.build import BuiltModel, build_meta_model
from lora_audit.model.source import ModelSource

NAME = "sentence-transformers"
_ENCODER_CLASSES = {"t5": "T5EncoderModel", "mt5": "MT5EncoderModel"}


def detect(source: ModelSource) -> bool:
    return source.library_hint == NAME


def build(source: ModelSource, model_class: str | None = None, **options: Any) -> BuiltModel:
    chosen = model_class or _ENCODER_CLASSES.get(source.config.get("model_type", ""), "AutoModel")
    options.pop("task_type", None)  # the Transformer module has no head: the class above decides
    built = build_meta_model(source, model_class=chosen, **options)
    built.library = NAME
    built.notes.insert(
        0,
        f"sentence-transformers: audited its Transformer module ({source.component}), built as {chosen} as "
        "sentence-transformers loads it",
    )
    return built
