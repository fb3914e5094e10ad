"""Views of the report that several rules share. Pure functions of the report's facts."""

from __future__ import annotations

import re
from collections import defaultdict

from lora_audit.naming import fold, template
from lora_audit.report import AdaptedModule, Report

#: Class-name endings of task heads and the PEFT task type that trains (saves) the head.
HEAD_TASKS = {
    "ForSequenceClassification": "SEQ_CLS",
    "ForTokenClassification": "TOKEN_CLS",
    "ForQuestionAnswering": "QUESTION_ANS",
    "ForImageClassification": None,  # PEFT has no task type for it: modules_to_save is the way
    "ForAudioClassification": None,
    "ForMultipleChoice": None,
}
#: Names transformers gives freshly initialised task heads.
HEAD_NAMES = ("classifier", "score", "qa_outputs", "classification_head", "projector")


def class_task(report: Report) -> str | None:
    """The PEFT task type the built class corresponds to (None for a bare model or unknown)."""
    name = report.model.class_name
    for suffix, task in HEAD_TASKS.items():
        if name.endswith(suffix):
            return task or "OTHER_HEAD"
    if name.endswith(("ForCausalLM", "LMHeadModel")):
        return "CAUSAL_LM"
    if name.endswith(("ForConditionalGeneration", "ForSeq2SeqLM")):
        return "SEQ_2_SEQ_LM" if report.model.is_encoder_decoder else "CAUSAL_LM"
    if name.endswith("ForMaskedLM"):
        return "MASKED_LM"
    if name.endswith("Model"):
        return "FEATURE_EXTRACTION"
    return None


def task_heads(report: Report) -> list[str]:
    """Top-level task-head modules of a classification / QA class (fresh at fine-tuning time)."""
    if not report.model.class_name.endswith(tuple(HEAD_TASKS)):
        return []
    top = [m.name for m in report.modules if m.name and "." not in m.name]
    return [name for name in top if name in HEAD_NAMES]


def saved_modules(report: Report) -> set[str]:
    return {m for s in report.modules_to_save if not s.dropped for m in s.modules}


def adapted_names(report: Report) -> set[str]:
    return {row.name for row in report.adapted_modules}


def under(name: str, roots: set[str]) -> bool:
    """``name`` is one of ``roots`` or inside one of them."""
    parts = name.split(".")
    return any(".".join(parts[:i]) in roots for i in range(1, len(parts) + 1))


def effective_in(row: AdaptedModule) -> int:
    """k as LoRA sees it: ``in_features`` for a Linear, ``c_in·kh·kw`` for a convolution (its A is a conv)."""
    k = row.in_features
    for size in row.kernel_size or []:
        k *= size
    return k


def row_groups(rows: list[AdaptedModule]) -> dict[str, list[AdaptedModule]]:
    """Adapted rows by template name (``model.layers.*.self_attn.q_proj``), in report order."""
    groups: dict[str, list[AdaptedModule]] = defaultdict(list)
    for row in rows:
        groups[template(row.name)].append(row)
    return groups


def group_subject(rows: list[AdaptedModule]) -> str:
    """One subject for a group of rows: the folded name (``model.layers.(0-23).mlp.gate``)."""
    folded = fold([r.name for r in rows])
    return folded[0] if len(folded) == 1 else template(rows[0].name)


def containers(report: Report) -> dict[str, list[int]]:
    """Repeated-block containers and their block indices (``model.layers`` -> [0..23])."""
    out: dict[str, list[int]] = defaultdict(list)
    for block in report.coverage:
        out[block.container].append(block.index)
    return dict(out)


#: Per-expert projection names of MoE blocks before transformers v5 fused them.
EXPERT_NAMES = {"w1", "w2", "w3", "gate_proj", "up_proj", "down_proj", "gate_up_proj"}


def expert_like(pattern: str, report: Report) -> bool:
    """A name that meant per-expert Linear layers, on a model whose experts are fused 3-D parameters."""
    if not report.model.fused_expert_parameters:
        return False
    tail = pattern.rsplit(".", 1)[-1]
    return tail in report.model.moe_v4_names or tail in EXPERT_NAMES or "experts." in pattern


def fused_parameter_suffixes(report: Report) -> list[str]:
    """``mlp.experts.gate_up_proj`` for ``model.layers.7.mlp.experts.gate_up_proj``: what target_parameters takes."""
    out: list[str] = []
    for name in report.model.fused_expert_parameters:
        suffix = re.split(r"\.\d+\.", name)[-1]
        if suffix not in out:
            out.append(suffix)
    return out
