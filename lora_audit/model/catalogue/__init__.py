"""The bundled catalogue: real published ``config.json`` files of popular models.

Each model lives in ``<org>--<name>/config.json`` (the Hugging Face cache's naming), next to
this file; ``README.md`` gives the source of every file. The catalogue lets
``lora-audit Qwen/Qwen2.5-0.5B`` run offline and for gated repositories. The test fixtures use
the same files (``fixtures/models`` points here), so there is one copy of the data.
"""

from __future__ import annotations

from pathlib import Path

CATALOGUE_DIR = Path(__file__).resolve().parent


def model_ids() -> list[str]:
    """Hub ids of every bundled model, sorted."""
    return sorted(
        d.name.replace("--", "/", 1)
        for d in CATALOGUE_DIR.iterdir()
        if (d / "config.json").is_file() or (d / "model_index.json").is_file()
    )


def find(repo_id: str) -> Path | None:
    """The bundled ``config.json`` (a pipeline's ``model_index.json``) for ``repo_id``, or None.

    Matching ignores case, and a legacy id without an organisation (``gpt2``,
    ``bert-base-uncased``) finds the model when exactly one bundled model has that name,
    as the hub's own redirects do.
    """
    wanted = repo_id.strip().lower()
    by_id = {mid.lower(): mid for mid in model_ids()}
    if wanted in by_id:
        return _path(by_id[wanted])
    if "/" not in wanted:
        named = [mid for mid in by_id.values() if mid.split("/", 1)[1].lower() == wanted]
        if len(named) == 1:
            return _path(named[0])
    return None


#: Suffixes re-uploads and fine-tunes add to a base model's name; a name stem is the name without them.
_SUFFIXES = ("-bnb-4bit", "-bnb-8bit", "-unsloth", "-4bit", "-8bit", "-gguf", "-awq", "-gptq", "-fp8", "-hf",
             "-instruct", "-chat", "-it", "-base")


def name_stem(repo_id: str) -> str:
    """``llama-3-8b`` for ``meta-llama/Meta-Llama-3-8B`` and ``unsloth/llama-3-8b-bnb-4bit``: the name, lower-case,
    without the organisation, a leading ``meta-`` and the suffixes of re-uploads and fine-tunes."""
    name = repo_id.strip().lower().rsplit("/", 1)[-1].removeprefix("meta-")
    changed = True
    while changed:
        changed = False
        for suffix in _SUFFIXES:
            if name.endswith(suffix) and len(name) > len(suffix):
                name, changed = name[: -len(suffix)], True
    return name


def same_stem(repo_id: str) -> list[str]:
    """Bundled ids whose name stem is ``repo_id``'s (a re-upload, an -Instruct variant): candidates, not matches."""
    stem = name_stem(repo_id)
    return [mid for mid in model_ids() if name_stem(mid) == stem and mid.lower() != repo_id.strip().lower()]


def canonical_id(config_path: Path) -> str:
    """``Qwen/Qwen2.5-0.5B`` for the catalogue file ``Qwen--Qwen2.5-0.5B/config.json``."""
    return config_path.parent.name.replace("--", "/", 1)


def _path(model_id: str) -> Path:
    directory = CATALOGUE_DIR / model_id.replace("/", "--", 1)
    # A diffusers pipeline has model_index.json and one config.json per component, in subdirectories.
    return directory / ("config.json" if (directory / "config.json").is_file() else "model_index.json")
