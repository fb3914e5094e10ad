"""Turn a config.json into a weightless model on the meta device.

The head class comes from the config's ``architectures`` (the class the checkpoint was saved
with), unless ``--model-class`` or ``--task-type`` says otherwise. Custom code from a repository
runs only with ``trust_remote_code=True``; without it a config that needs code is refused here,
before transformers could prompt on stdin.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lora_audit.capture import capture_messages
from lora_audit.errors import AuditError, first_line
from lora_audit.guards import budget
from lora_audit.integrations import huggingface_hub as hub_private
from lora_audit.integrations import transformers as private
from lora_audit.model.source import ModelSource
from lora_audit.report import PeftMessage

if TYPE_CHECKING:
    from torch import nn

#: PEFT task types and the transformers auto class whose head they fine-tune.
TASK_AUTO_CLASSES = {
    "CAUSAL_LM": "AutoModelForCausalLM",
    "SEQ_2_SEQ_LM": "AutoModelForSeq2SeqLM",
    "SEQ_CLS": "AutoModelForSequenceClassification",
    "TOKEN_CLS": "AutoModelForTokenClassification",
    "QUESTION_ANS": "AutoModelForQuestionAnswering",
    "FEATURE_EXTRACTION": "AutoModel",
}

#: Layer counts above this are refused before building (the check, over every depth field, is in budget.py).
MAX_LAYERS = budget.MAX_LAYERS

#: Class-name endings (from ``architectures``) and the auto classes that build that head, in
#: the order to try. Used when the saved class name is not in this transformers (renamed, custom).
_SUFFIX_AUTO_CLASSES = [
    (("ForCausalLM", "LMHeadModel"), ("AutoModelForCausalLM",)),
    (("ForMaskedLM",), ("AutoModelForMaskedLM",)),
    (("ForSequenceClassification",), ("AutoModelForSequenceClassification",)),
    (("ForTokenClassification",), ("AutoModelForTokenClassification",)),
    (("ForQuestionAnswering",), ("AutoModelForQuestionAnswering",)),
    (("ForImageClassification",), ("AutoModelForImageClassification",)),
    (
        ("ForConditionalGeneration", "ForSeq2SeqLM"),
        ("AutoModelForImageTextToText", "AutoModelForSpeechSeq2Seq", "AutoModelForSeq2SeqLM"),
    ),
]


@dataclass
class BuiltModel:
    """A recipe for fresh meta-device copies of the model, plus what we learnt building it.

    ``factory()`` returns a new, unmodified model each call: PEFT mutates the model it adapts,
    so every attempt starts from a fresh copy.
    """

    factory: Callable[[], nn.Module]
    class_name: str
    model_type: str
    config: Any  #: the transformers config object (None for a plain nn.Module)
    messages: list[PeftMessage] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  #: how the class was chosen, when not obvious
    #: the library that built it (lora_audit.model.libraries): transformers | diffusers | timm | sentence-transformers
    library: str = "transformers"


def build_meta_model(
    source: ModelSource,
    task_type: str | None = None,
    model_class: str | None = None,
    trust_remote_code: bool = False,
    config_overrides: dict[str, Any] | None = None,
) -> BuiltModel:
    """Build the model described by ``source`` on the meta device (no weights are allocated).

    ``config_overrides`` are config values the training code sets when it loads the model
    (``from_pretrained(..., num_labels=5)``), applied as transformers applies them.
    """
    budget.check_model_config(source.config, str(source.config_path))
    config = _load_config(source, trust_remote_code, config_overrides or {})
    _refuse_empty(config)
    cls, how, notes = _choose_class(config, source, task_type, model_class, trust_remote_code)

    def factory() -> nn.Module:
        import torch

        with torch.device("meta"):
            if how == "auto":
                return cls.from_config(config, trust_remote_code=trust_remote_code)
            return private.from_config(cls, config)

    with capture_messages("build") as messages:
        try:
            model = factory()
        except AuditError:
            raise
        except Exception as exc:  # noqa: BLE001 - any failure inside transformers' __init__
            raise AuditError(
                "build-failed",
                f"building {getattr(cls, '__name__', cls)} for model_type {config.model_type!r} on the meta "
                f"device failed: {type(exc).__name__}: {first_line(exc)}",
                "check the config values, or choose another head with --model-class / --task-type",
            ) from None
    refuse_zero_size(model)
    first = [model]

    def fresh() -> nn.Module:
        # The first copy was built to validate the config; hand it out once, then build anew.
        return first.pop() if first else factory()

    return BuiltModel(
        factory=fresh,
        class_name=type(model).__name__,
        model_type=config.model_type,
        config=config,
        messages=messages,
        notes=notes,
    )


def from_module(module: nn.Module) -> BuiltModel:
    """Wrap a user's already-built ``nn.Module``: every copy handed out is a weightless meta clone."""
    refuse_zero_size(meta_clone(module))  # fail early, and with a clear message, if it cannot be audited
    config = getattr(module, "config", None)
    return BuiltModel(
        factory=lambda: meta_clone(module),
        class_name=type(module).__name__,
        model_type=getattr(config, "model_type", None) or "custom",
        config=config,
        library=_library_of(module),
    )


def _library_of(module: nn.Module) -> str:
    """The library whose class ``module`` is (diffusers, timm...); transformers for anything else."""
    top = type(module).__module__.split(".", 1)[0]
    return {"diffusers": "diffusers", "timm": "timm", "sentence_transformers": "sentence-transformers"}.get(
        top, "transformers"
    )


def meta_clone(module: nn.Module) -> nn.Module:
    """A deep copy of ``module`` whose parameters and buffers are meta tensors.

    The original is never touched; weights are not copied (shared tensors stay shared).
    """
    import torch

    memo: dict[int, Any] = {}
    for tensor in list(module.parameters()) + list(module.buffers()):
        if id(tensor) in memo:
            continue
        meta = torch.empty_like(tensor, device="meta")
        if isinstance(tensor, torch.nn.Parameter):
            meta = torch.nn.Parameter(meta, requires_grad=tensor.requires_grad)
        memo[id(tensor)] = meta
    try:
        return copy.deepcopy(module, memo)
    except Exception as exc:  # noqa: BLE001
        raise AuditError(
            "module-not-clonable",
            f"cannot make a weightless copy of the given {type(module).__name__}: {type(exc).__name__}: "
            f"{first_line(exc)}",
            "pass the model id or path instead of the module",
        ) from None


# --------------------------------------------------------------------------- config
def _load_config(source: ModelSource, trust_remote_code: bool, overrides: dict[str, Any]) -> Any:
    from transformers import AutoConfig

    raw = source.config
    model_type = raw["model_type"]
    known = private.is_known_model_type(model_type)
    auto_map = raw.get("auto_map") or {}
    if not known and auto_map and not trust_remote_code:
        # Any truthy auto_map asks for code: refuse it whatever its shape, naming what we can.
        names = sorted(map(str, auto_map)) if isinstance(auto_map, dict) else [type(auto_map).__name__]
        raise AuditError(
            "remote-code-required",
            f"model_type {model_type!r} is not built into transformers: this model needs the custom code its "
            f"repository ships (auto_map: {', '.join(names)[:200]})",
            "lora-audit runs a repository's code only with --trust-remote-code; read that code first",
        )
    if not known and not auto_map:
        import transformers

        raise AuditError(
            "unknown-model-type",
            f"transformers {transformers.__version__} does not know model_type {model_type!r}",
            "a newer transformers release may (pip install -U transformers); check the model card for the "
            "version it needs",
        )
    where: str = str(source.config_path)
    kwargs: dict[str, Any] = {"trust_remote_code": trust_remote_code}
    if trust_remote_code and auto_map and source.repo_id and source.kind in ("hub", "hf-cache"):
        # The custom code lives in the repository, next to config.json.
        where, kwargs["revision"] = source.repo_id, source.revision
    elif trust_remote_code and auto_map:
        # transformers loads custom code from a directory, not from a config file's path.
        where = str(source.config_path.parent)
    with capture_messages("build"):
        try:
            return AutoConfig.from_pretrained(where, **kwargs, **overrides)
        except Exception as exc:  # noqa: BLE001
            if hub_private.is_offline_refusal(exc):  # raised before any request
                raise AuditError(
                    "offline-not-cached",
                    f"{source.description} refers to another hub repository that transformers would fetch while "
                    f"loading it (a backbone or sub-model), and lora-audit is offline: {first_line(exc, 160)}",
                    "go online once (drop --offline, unset HF_HUB_OFFLINE) so it is cached, or pass a config whose "
                    "sub-models are given in full",
                ) from None
            raise AuditError(
                "config-invalid",
                f"transformers cannot load {source.description} as a {model_type} config: "
                f"{type(exc).__name__}: {first_line(exc)}",
                "fix the config values, or fetch a fresh copy of the model's config.json",
            ) from None


def _refuse_empty(config: Any) -> None:
    sub = getattr(config, "get_text_config", lambda: config)()
    for name in ("num_hidden_layers", "n_layer", "num_layers"):
        value = getattr(sub, name, None)
        if isinstance(value, int) and value <= 0:
            raise AuditError(
                "empty-model",
                f"the config has {name}={value}: a model with no layers has nothing for LoRA to adapt",
                "check the config, or pass the real model's config.json",
            )


def refuse_too_deep(raw: dict[str, Any]) -> None:
    """Refuse, before building, a config whose sizes no real model has (every depth field; see budget.py)."""
    budget.check_model_config(raw)


def build_first(
    factory: Callable[[], nn.Module], what: str, hint: str
) -> tuple[nn.Module, list[PeftMessage], Callable[[], nn.Module]]:
    """Build once now, for another library's model: ``(model, what it logged, a factory)``.

    A failure inside the library's ``__init__`` is ``build-failed`` naming ``what``, with ``hint``.
    The factory hands out this first model, then fresh ones (PEFT mutates the model it adapts).
    """
    with capture_messages("build") as messages:
        try:
            model = factory()
        except Exception as exc:  # noqa: BLE001 - any failure inside the library's model __init__
            raise AuditError(
                "build-failed", f"building {what} on the meta device failed: {type(exc).__name__}: {first_line(exc)}",
                hint,
            ) from None
    refuse_zero_size(model)
    first = [model]
    return model, messages, lambda: first.pop() if first else factory()


def refuse_zero_size(model: nn.Module) -> None:
    # A dimension of 0 builds, but a LoRA layer on it costs r·(d+k) against d·k = 0: no ratio, no sense.
    for name, parameter in model.named_parameters():
        if parameter.numel() == 0:
            raise AuditError(
                "zero-size-weight",
                f"{type(model).__name__} has a parameter with no elements, {name} of shape {list(parameter.shape)}: "
                "the config sets a dimension to 0",
                "check the config's sizes (hidden_size, intermediate_size, vocab_size...)",
            )


# --------------------------------------------------------------------------- class choice
def _choose_class(
    config: Any, source: ModelSource, task_type: str | None, model_class: str | None, trust_remote_code: bool
) -> tuple[Any, str, list[str]]:
    import transformers

    if model_class is not None:  # an empty --model-class "" is a mistake to report, not "no class given"
        return _named_class(model_class), ("auto" if model_class.startswith("Auto") else "class"), []

    architectures = list(getattr(config, "architectures", None) or [])
    auto_map = getattr(config, "auto_map", None)
    if trust_remote_code and isinstance(auto_map, dict) and auto_map:
        auto_name = TASK_AUTO_CLASSES.get(task_type or "") or _auto_for_remote_code(architectures, auto_map, config)
        return getattr(transformers, auto_name), "auto", [f"custom code via {auto_name} (trust_remote_code)"]

    if task_type:
        auto_name = TASK_AUTO_CLASSES[task_type]
        if task_type == "SEQ_2_SEQ_LM" and _in_mapping("AutoModelForSpeechSeq2Seq", config):
            auto_name = "AutoModelForSpeechSeq2Seq"
        saved = _model_class(architectures[0]) if architectures else None
        if saved is not None and _class_in_mapping(auto_name, config, saved):
            return saved, "class", []
        if not _in_mapping(auto_name, config):
            raise AuditError(
                "no-head-for-task",
                f"transformers has no {task_type} head for model_type {config.model_type!r} ({auto_name})",
                "choose a --task-type this model supports, or name the class with --model-class",
            )
        return getattr(transformers, auto_name), "auto", [f"{auto_name} chosen for task_type {task_type}"]

    if architectures:
        saved = _model_class(architectures[0])
        if saved is not None:
            return saved, "class", []
        auto_name = _auto_for_arch(architectures, config)
        return (
            getattr(transformers, auto_name),
            "auto",
            [f"{architectures[0]} is not a model class in transformers {transformers.__version__}; built {auto_name}"],
        )
    return (
        transformers.AutoModel,
        "auto",
        ["the config names no architectures: built the bare model (no task head); "
         "pass --task-type or --model-class for a head"],
    )


def _model_class(name: str) -> type | None:
    """The transformers model class called ``name``; None for anything else (a config class, an auto class...)."""
    import transformers
    from transformers import PreTrainedModel

    cls = getattr(transformers, name, None) if name.isidentifier() else None
    if isinstance(cls, type) and issubclass(cls, PreTrainedModel) and cls is not PreTrainedModel:
        return cls
    return None


def _named_class(name: str) -> Any:
    import transformers
    from transformers import PreTrainedModel

    cls = getattr(transformers, name, None)
    if name.startswith("Auto") and cls is not None and hasattr(cls, "from_config"):
        return cls
    if isinstance(cls, type) and issubclass(cls, PreTrainedModel):
        return cls
    raise AuditError(
        "unknown-model-class",
        f"{name!r} is not a transformers model class",
        "pass a class such as LlamaForCausalLM or an auto class such as AutoModelForSequenceClassification",
    )


def _auto_for_remote_code(architectures: list[str], auto_map: dict[str, Any], config: Any) -> str:
    """The auto class the repository's own auto_map registers for its architecture's head."""
    arch = architectures[0] if architectures else ""
    for suffixes, auto_names in _SUFFIX_AUTO_CLASSES:
        if arch.endswith(suffixes):
            for auto_name in auto_names:
                if auto_name in auto_map:
                    return auto_name
    models = [name for name in auto_map if name.startswith("AutoModel")]
    return models[0] if models else _auto_for_arch(architectures, config)


def _auto_for_arch(architectures: list[str], config: Any) -> str:
    arch = architectures[0] if architectures else ""
    for suffixes, auto_names in _SUFFIX_AUTO_CLASSES:
        if arch.endswith(suffixes):
            for auto_name in auto_names:
                if _in_mapping(auto_name, config):
                    return auto_name
    return "AutoModel"


def _in_mapping(auto_name: str, config: Any) -> bool:
    return type(config) in private.auto_model_mapping(auto_name)


def _class_in_mapping(auto_name: str, config: Any, cls: type) -> bool:
    try:
        mapped = private.auto_model_mapping(auto_name)[type(config)]
    except KeyError:
        return False
    mapped = mapped if isinstance(mapped, (list, tuple)) else (mapped,)
    return cls in mapped
