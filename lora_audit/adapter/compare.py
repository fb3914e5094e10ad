"""Compare a saved adapter's tensor table with the keys and shapes PEFT creates for its config.

The expected table is PEFT's own: ``peft.get_peft_model_state_dict`` on the live meta-device
PeftModel gives exactly the keys ``save_pretrained`` writes (adapter name removed, ``modules_to_save``
copies without their ``modules_to_save.<adapter>.`` infix, DoRA's ``lora_magnitude_vector``,
``token_adapter.trainable_tokens_delta``, embeddings' ``lora_embedding_A/B``) with their shapes, on
meta, for any model size. ``save_embedding_layers=False``: embedding weights saved next to the
adapter are base weights, matched against the model's own parameters instead (PEFT 0.21.2,
``peft/utils/save_and_load.py``: they load into the base model with ``strict=False``).

The result is :class:`~lora_audit.report.AdapterFacts` for ``Report.adapter``; the rules LA040-LA048 read it.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lora_audit.adapter.header import tensor_bytes
from lora_audit.adapter.source import PICKLE_ADVICE, AdapterFile
from lora_audit.capture import capture_messages
from lora_audit.integrations.torch import meta_tensor_failure
from lora_audit.model import catalogue
from lora_audit.report import (
    AdapterComparison,
    AdapterFacts,
    AdapterFit,
    AdapterTensors,
    BaseDims,
    BaseWeight,
    KeyMismatch,
)

if TYPE_CHECKING:
    from lora_audit.model.build import BuiltModel

PREFIX = "base_model.model."
#: Key endings and the role of the tensor in PEFT's LoRA layers (longest first).
ROLES = (
    (".lora_embedding_A", "lora_embedding_A"),
    (".lora_embedding_B", "lora_embedding_B"),
    (".lora_A.weight", "lora_A"),
    (".lora_B.weight", "lora_B"),
    (".lora_B.bias", "lora_B_bias"),
    (".lora_magnitude_vector", "dora_magnitude"),
    (".token_adapter.trainable_tokens_delta", "trainable_tokens_delta"),
)
#: How many keys of each list the report keeps in full (counts are always exact).
MAX_LISTED = 2000


def role_of(key: str) -> tuple[str, str]:
    """``(module, role)``: ``model.layers.0.self_attn.q_proj``, ``lora_A``; full copies are ``copy``."""
    name = key.removeprefix(PREFIX)
    for suffix, role in ROLES:
        if name.endswith(suffix):
            return name[: -len(suffix)], role
    return name.rsplit(".", 1)[0], "copy"


def adapter_facts(found: AdapterFile, peft_model: Any, base: BaseDims, base_given: str | None) -> AdapterFacts:
    """The ``Report.adapter`` facts: the file's table against PEFT's expected table for this base."""
    config = found.config
    facts = AdapterFacts(
        spec=found.spec,
        source=found.kind,
        file=found.weights_name,
        config_file=None if found.config_path is None else str(found.config_path),
        format=found.format,
        base_model_name_or_path=config.get("base_model_name_or_path"),
        base_given=base_given,
        base_names_match=_same_base(config.get("base_model_name_or_path"), base_given),
        peft_version=config.get("peft_version"),
        base=base,
        conversion=found.conversion,
    )
    if found.table is None:
        return replace(facts, note=f"{found.weights_name} is a pickle file: lora-audit never unpickles it. "
                                   f"{PICKLE_ADVICE}")
    table = found.table
    file_shapes = {k: shape for k, (_dtype, shape) in table.tensors.items()}
    dtypes: Counter[str] = Counter()
    for dtype, dims in table.tensors.values():
        dtypes[dtype] += math.prod(dims)
    tensors = AdapterTensors(
        file_bytes=table.file_bytes,
        header_bytes=table.header_bytes,
        data_bytes=table.data_bytes,
        truncated=table.truncated,
        tensors=len(table.tensors),
        params=sum(dtypes.values()),
        tensor_bytes=sum(tensor_bytes(d, s) for d, s in table.tensors.values()),
        dtypes=dict(sorted(dtypes.items())),
    )
    # PEFT refused the config (nothing matched on this base): it creates no key, so none in the file fits
    try:
        expected, base_params = _expected(peft_model) if peft_model is not None else ({}, {})
    except (NotImplementedError, RuntimeError) as exc:
        if not meta_tensor_failure(exc):
            raise
        # A prompt-learning adapter's saved tensor is its prompt encoder's output (PEFT 0.21.2,
        # get_prompt_embedding_to_save runs the encoder): a model without weights cannot compute it.
        return replace(facts, table=tensors, note="PEFT computes this method's saved tensor by running its "
                       "prompt encoder, which needs weights: the file's tensors are listed, not compared")
    matched = 0
    mismatched: list[KeyMismatch] = []
    missing: list[str] = []
    unexpected: list[str] = []
    base_weights: list[BaseWeight] = []
    for key, shape in expected.items():
        if key not in file_shapes:
            missing.append(key)
            continue
        if list(shape) == file_shapes[key]:
            matched += 1
        else:
            mismatched.append(_mismatch(key, file_shapes[key], list(shape), base))
    for key, file_shape in file_shapes.items():
        if key in expected:
            continue
        param = _model_parameter(key, base_params)
        if param is not None:
            base_shape = list(base_params[param])
            kind = None if file_shape == base_shape else _copy_kind(file_shape, base_shape, base)
            base_weights.append(BaseWeight(key=key, file_shape=file_shape, base_shape=base_shape, kind=kind))
        else:
            unexpected.append(key)
    comparison = AdapterComparison(
        expected_tensors=len(expected),
        expected_params=sum(math.prod(s) for s in expected.values()),
        matched=matched,
        missing_count=len(missing),
        unexpected_count=len(unexpected),
        mismatched_count=len(mismatched),
        missing=missing[:MAX_LISTED],
        unexpected=unexpected[:MAX_LISTED],
        mismatched=mismatched[:MAX_LISTED],
        base_weights=base_weights,
        fits=_fits(file_shapes, expected, mismatched, base),
    )
    return replace(facts, table=tensors, comparison=comparison)


def _same_base(claimed: Any, given: str | None) -> bool:
    """The adapter's base_model_name_or_path names the base audited: same id (any case), or same directory."""
    if not isinstance(claimed, str) or not claimed.strip() or not given:
        return True  # nothing to compare
    if claimed.strip().rstrip("/").lower() == given.strip().rstrip("/").lower():
        return True

    try:
        a, b = Path(claimed).expanduser(), Path(given).expanduser()
        return a.exists() and b.exists() and a.resolve() == b.resolve()
    except (OSError, RuntimeError, ValueError):
        return False


def _expected(peft_model: Any) -> tuple[dict[str, tuple[int, ...]], dict[str, tuple[int, ...]]]:
    """PEFT's saved keys and shapes for this config, and every parameter name of the adapted model."""
    from peft import get_peft_model_state_dict

    with capture_messages("apply"):
        saved = get_peft_model_state_dict(peft_model, save_embedding_layers=False)
    expected = {k: tuple(v.shape) for k, v in saved.items()}
    every = {k: tuple(v.shape) for k, v in peft_model.state_dict().items()}
    return expected, every


def _model_parameter(key: str, params: dict[str, Any]) -> str | None:
    """The adapted model's parameter a file key loads into, if it names one.

    Embedding weights stored by ``save_embedding_layers`` are written under the model's own names
    (``embed_tokens.weight``, ``embed_tokens.base_layer.weight``, and for a ``modules_to_save``
    head ``lm_head.original_module.weight`` and ``lm_head.modules_to_save.weight``, the adapter
    name removed).
    """
    if key in params:
        return key
    head, _, last = key.rpartition(".")
    with_adapter = f"{head}.default.{last}"
    return with_adapter if with_adapter in params else None


def module_of(key: str) -> str:
    """``lm_head`` for ``base_model.model.lm_head.original_module.weight``: the base module a key belongs to."""
    name = role_of(key)[0]
    for infix in (".modules_to_save", ".original_module", ".base_layer", ".token_adapter"):
        name = name.replace(infix, "")
    return name


def _mismatch(key: str, file_shape: list[int], expected: list[int], base: BaseDims) -> KeyMismatch:
    module, role = role_of(key)
    kind = "shape"
    if len(file_shape) == len(expected) == 2:
        # lora_A / lora_embedding_A are [r, in]; lora_B / lora_embedding_B are [out, r]
        rank_dim = {"lora_A": 0, "lora_embedding_A": 0, "lora_B": 1, "lora_embedding_B": 1}.get(role)
        if rank_dim is not None:
            other = 1 - rank_dim
            if file_shape[rank_dim] != expected[rank_dim] and file_shape[other] == expected[other]:
                kind = "rank"
            elif file_shape[other] != expected[other]:
                kind = {"lora_A": "in_features", "lora_B": "out_features", "lora_embedding_A": "rows",
                        "lora_embedding_B": "out_features"}[role]
                if kind == "rows" and expected[other] != base.vocab_size:
                    kind = "in_features"
        elif role == "copy":
            kind = _copy_kind(file_shape, expected, base)
    elif role == "dora_magnitude":
        kind = "out_features"
    return KeyMismatch(key=key, module=module, role=role, file_shape=file_shape, expected_shape=expected, kind=kind)


def _copy_kind(file_shape: list[int], expected: list[int], base: BaseDims) -> str:
    """``rows`` for an embedding / output-head copy with another vocabulary size, else ``shape``."""
    vocab = base.vocab_size
    if (len(file_shape) == len(expected) and file_shape[1:] == expected[1:] and file_shape[0] != expected[0]
            and vocab is not None and expected[0] == vocab):
        return "rows"
    return "shape"


_INDEX = re.compile(r"\.(\d+)\.")


def _layer_count(keys: Iterable[str]) -> int | None:
    """One more than the highest block index in the keys (``model.layers.31.`` -> 32)."""
    indices = [int(m.group(1)) for k in keys if (m := _INDEX.search(k))]
    return max(indices) + 1 if indices else None


def _fits(file_shapes: dict[str, list[int]], expected: Mapping[str, tuple[int, ...]], mismatched: list[KeyMismatch],
          base: BaseDims) -> AdapterFit:
    """What the file's shapes say about the base it was trained on: hidden size and block count."""
    hidden = base.hidden_size
    seen: Counter[int] = Counter()
    for row in mismatched:
        f, e = row.file_shape, row.expected_shape
        if row.kind == "in_features" and e[-1] == hidden:
            seen[f[-1]] += 1
        elif row.kind == "out_features" and e[0] == hidden:
            seen[f[0]] += 1
    file_hidden = seen.most_common(1)[0][0] if seen else None
    file_layers, expected_layers = _layer_count(file_shapes), _layer_count(expected)
    hidden_differs = file_hidden is not None and file_hidden != hidden
    layers_differ = file_layers is not None and expected_layers is not None and file_layers != expected_layers
    return AdapterFit(
        hidden_size=file_hidden,
        num_layers=file_layers,
        expected_num_layers=expected_layers,
        hidden_differs=hidden_differs,
        layers_differ=layers_differ,
        candidates=_catalogue_candidates(file_hidden or hidden, file_layers) if hidden_differs or layers_differ
        else None,
    )


def _catalogue_candidates(hidden: int | None, layers: int | None) -> list[str]:
    """Bundled catalogue models whose config has this hidden size and block count."""
    out = []
    for model_id in catalogue.model_ids():
        path = catalogue.find(model_id)  # an id model_ids() lists: always bundled
        if path is None:
            continue
        try:
            config = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        text = config.get("text_config") or config
        h = text.get("hidden_size") or text.get("d_model") or text.get("n_embd")
        n = text.get("num_hidden_layers") or text.get("num_layers") or text.get("n_layer")
        if (hidden is None or h == hidden) and (layers is None or n == layers):
            out.append(model_id)
    return out


def base_dims(built: BuiltModel, num_layers: int | None) -> BaseDims:
    """The base model's sizes the adapter is checked against."""
    config = built.config
    text = getattr(config, "get_text_config", lambda: config)() if config is not None else None

    def first(*names: str) -> int | None:
        for name in names:
            value = getattr(text, name, None)
            if isinstance(value, int) and not isinstance(value, bool):
                return value
        return None

    return BaseDims(
        architecture=built.class_name,
        model_type=built.model_type,
        hidden_size=first("hidden_size", "d_model", "n_embd"),
        num_layers=num_layers,
        vocab_size=first("vocab_size"),
    )
