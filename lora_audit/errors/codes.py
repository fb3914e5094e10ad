"""The registry of error codes: every code an :class:`~lora_audit.errors.AuditError` can carry.

Each :class:`ErrorCode` has the stable ``code`` (scripts rely on it), a short ``title``, what it
``meaning`` covers (the messages it comes with) and the ``fix``. docs/errors.md is generated from
this table (``python scripts/gen_errors_doc.py``; tests/unit/test_errors.py fails when it is stale),
and an AuditError with a code that is not here cannot be made.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Section:
    """A heading of docs/errors.md, with the paragraph under it (if any)."""

    title: str
    intro: str = ""


@dataclass(frozen=True)
class ErrorCode:
    code: str
    section: Section
    title: str
    meaning: str
    fix: str



MODEL = Section(
    "The model",
)

BUILD = Section(
    "Building the model",
)

LIBRARIES = Section(
    "Other libraries: diffusers pipelines, sentence-transformers, timm",
)

LORA = Section(
    "The LoRA config",
)

ADAPTER = Section(
    "A saved adapter (`--adapter`, `lora-audit adapter`)",
    "Only `adapter_config.json` and the safetensors header are ever read; tensor data never is, and a\npickle "
    "(`adapter_model.bin`) is never opened: it is reported as finding LA047, not as an "
    "error.\n`offline-not-cached`, `gated-repo`, `revision-not-found` and `hub-unreachable` above apply to a "
    "hub\nadapter too.",
)

CLI = Section(
    "The command line and settings",
)

CHECK = Section(
    "`lora-audit check` and the baseline",
    "With `lora-audit check`, a pair that cannot be audited (any error above) does not stop the others:\nit is "
    "reported in the combined output (`\"error\"` in its entry of the JSON, a row of the summary\ntable, an "
    "`::error` annotation), one line on stderr names it, and the exit code is 2.",
)

INTERNAL = Section(
    "Internal errors",
)


CODES_IN_ORDER: tuple[ErrorCode, ...] = (
    # ----- The model
    ErrorCode(
        "model-missing", MODEL, "No model given",
        "`no model given`, or `no model given, and lora.yaml names no base model`.",
        "Pass a hub id such as `Qwen/Qwen2.5-0.5B`, a model directory or a `config.json`. When MODEL is left out, "
        "the config file must name the model (`base_model`, `model_name_or_path`, `base_model_name_or_path`); "
        "when the model it names cannot be found (not cached, not bundled, hub unreachable), the error of that "
        "lookup says to pass MODEL.",
    ),
    ErrorCode(
        "path-not-found", MODEL, "The model path does not exist",
        "`./models/llama: no such file or directory` (MODEL looks like a path: it starts with `.`, `/` or `~`, "
        "ends in `.json`, or has more than one `/`).",
        "Check the path, or pass a hub id.",
    ),
    ErrorCode(
        "invalid-model-id", MODEL, "Neither a path nor a hub id",
        "`'my model' is neither an existing path nor a valid hub id`. A hub id is `org/name`.",
        "Pass an existing path, or a hub id such as `Qwen/Qwen2.5-0.5B`.",
    ),
    ErrorCode(
        "no-config-json", MODEL, "No config.json where the model should be",
        "`./checkpoint has no config.json`, or `org/name@main has no config.json on the hub`.",
        "Point at the directory that holds the model's `config.json` (not a checkpoint or adapter directory).",
    ),
    ErrorCode(
        "weights-file", MODEL, "A weights file given as the model",
        "`model.safetensors is a weights file; lora-audit reads only the model's config.json`.",
        "Pass the directory, or the `config.json` next to the weights.",
    ),
    ErrorCode(
        "config-unreadable", MODEL, "The model's config.json cannot be read",
        "`cannot read PATH: ...` (also `permission denied`), `PATH is larger than 16 MB: not a config file`, or "
        "`PATH is a named pipe (FIFO) / a socket / a character device, not a config file` (MODEL is never read "
        "from a special file, so nothing blocks on it).",
        "Pass the model's `config.json` (UTF-8 JSON, a few kB).",
    ),
    ErrorCode(
        "config-malformed", MODEL, "The model's config.json is not a valid config",
        "`PATH is not valid JSON (line 3, column 5: ...)`; also a file that holds a list instead of an object, a "
        "`model_type` that is not a string, `architectures` that are not a list of class names, or a number no "
        "model can have (`PATH: text_config.hidden_size is a 20000-bit integer`, or an integer of more than 4,300 "
        "digits).",
        "Fix the file, or fetch a fresh copy of the model's `config.json`.",
    ),
    ErrorCode(
        "config-too-large", MODEL, "The model config holds too many values",
        "`PATH holds more than 500,000 values: not a model config`. The largest real configs (a 21k-label "
        "`id2label`) hold tens of thousands; transformers copies a config several times while loading it, so a "
        "config of junk would cost minutes and gigabytes.",
        "Pass the model's `config.json`.",
    ),
    ErrorCode(
        "config-no-model-type", MODEL, "The model config has no model_type",
        "`PATH has no model_type`.",
        "Pass a transformers `config.json`; if the file is a LoRA adapter config, pass it with `--config` and the "
        "base model as MODEL.",
    ),
    ErrorCode(
        "offline-not-cached", MODEL, "Offline, and the model is neither cached nor bundled",
        "`offline, and config.json of org/name is neither in the local Hugging Face cache nor in the bundled "
        "catalogue`.",
        "Go online once (unset `HF_HUB_OFFLINE`, drop `--offline`), or pass a local directory. The catalogue "
        "holds only the `main` revision of each bundled model.",
    ),
    ErrorCode(
        "model-not-found", MODEL, "No such model on the hub",
        "`org/name is not a model on the Hugging Face Hub, or it is private`.",
        "Check the id; for a private repository log in (`hf auth login`, or set `HF_TOKEN`).",
    ),
    ErrorCode(
        "gated-repo", MODEL, "The repository is gated",
        "`org/name is a gated repository`.",
        "Accept the licence on huggingface.co and log in, or pass a local directory. Gated models in the bundled "
        "catalogue (Llama, Gemma, Mistral...) need neither: the catalogue copy is used.",
    ),
    ErrorCode(
        "revision-not-found", MODEL, "No such revision",
        "`org/name has no revision 'v2'`.",
        "Pass an existing branch, tag or commit with `--revision`.",
    ),
    ErrorCode(
        "hub-unreachable", MODEL, "The hub cannot be reached",
        "`cannot reach the Hugging Face Hub to fetch config.json of org/name@main (...), and it is neither cached "
        "nor bundled`. lora-audit asks the hub once, without retries, and falls back to the bundled catalogue "
        "when it has the model. Each fetch has a total deadline (`LORA_AUDIT_HUB_DEADLINE` seconds, by default "
        "three times `HF_HUB_ETAG_TIMEOUT`, i.e. 15 s), however slowly the server trickles its answer. A mirror "
        "(`HF_ENDPOINT`) that answers 403 or 404 for a bundled model falls back to the catalogue too.",
        "Check the network or `HF_ENDPOINT`, or pass a local directory.",
    ),
    ErrorCode(
        "hub-environment", MODEL, "A hub environment variable is invalid",
        "`the environment variable HF_HUB_ETAG_TIMEOUT='abc' is not a whole number of seconds` (also "
        "`HF_HUB_DOWNLOAD_TIMEOUT`, and `LORA_AUDIT_HUB_DEADLINE`, which must be a positive number), or any other "
        "setting that stops huggingface_hub from starting.",
        "Fix or unset the variable named.",
    ),
    ErrorCode(
        "hub-cache-unwritable", MODEL, "The Hugging Face cache is not writable",
        "`cannot write the Hugging Face cache (Permission denied: PATH)`, when config.json was fetched but cannot "
        "be stored.",
        "Point `HF_HOME` (or `HF_HUB_CACHE`) at a writable directory.",
    ),
    ErrorCode(
        "hub-error", MODEL, "The hub refused the request",
        "`the Hugging Face Hub refused config.json of org/name@main: ...` (an HTTP error other than the ones "
        "above).",
        "Try again later, or pass a local directory.",
    ),
    ErrorCode(
        "invalid-model", MODEL, "The model argument has the wrong type",
        "Python API only: `model must be a hub id, a path or an nn.Module, not int`.",
        "Pass a hub id, a path or an `nn.Module`.",
    ),
    ErrorCode(
        "module-not-clonable", MODEL, "The given module cannot be copied without weights",
        "Python API only: `cannot make a weightless copy of the given MyModel`.",
        "Pass the model id or path instead of the module.",
    ),
    # ----- Building the model
    ErrorCode(
        "unknown-model-type", BUILD, "transformers does not know the model_type",
        "`transformers 5.23.0 does not know model_type 'llama99'`. The message names the installed transformers: "
        "a newer release may know the model (`pip install -U transformers`); the model card says which version it "
        "needs.",
        "Upgrade transformers (`pip install -U transformers`) to the version the model card names.",
    ),
    ErrorCode(
        "remote-code-required", BUILD, "The model needs its repository's custom code",
        "`model_type 'foo' is not built into transformers: this model needs the custom code its repository ships "
        "(auto_map: AutoConfig, AutoModelForCausalLM)`. lora-audit imports a repository's code only with "
        "`--trust-remote-code`; read that code first. Without the flag nothing from the repository is imported.",
        "Read the repository's code, then pass `--trust-remote-code`.",
    ),
    ErrorCode(
        "config-invalid", BUILD, "transformers cannot load the config",
        "`transformers cannot load PATH as a qwen2 config: ...`.",
        "Fix the value transformers names.",
    ),
    ErrorCode(
        "empty-model", BUILD, "The model has no layers",
        "`the config has num_hidden_layers=0: a model with no layers has nothing for LoRA to adapt`.",
        "Check the config's layer count.",
    ),
    ErrorCode(
        "too-many-layers", BUILD, "The config asks for too many layers",
        "`the config has encoder_layers=100000: lora-audit builds models of up to 2048 layers`, or `the config "
        "asks for 3,000 layers in all (decoder_layers=1500, encoder_layers=1500): building them would need ~1.2 "
        "GB and ~36 s`. Every field that counts layers is read, whatever the architecture calls it "
        "(`num_hidden_layers`, `encoder_layers`, `n_layer`, `depth`, Swin's `depths`...), in the config and its "
        "sub-configs.",
        "Check the config; a wrong layer count would otherwise take hours to build.",
    ),
    ErrorCode(
        "budget-exceeded", BUILD, "The time or memory budget ran out",
        "`building and applying took longer than the 300 s budget`, or `needed more than the 8 GB memory budget` "
        "(also: `the audit ran out of memory`). Real models take under a minute and 1 GB (Llama-3.1-405B with "
        "all-linear: 17 s, 0.4 GB).",
        "Check the config's sizes; raise the budgets with `--timeout SECONDS` or `LORA_AUDIT_TIMEOUT`, and "
        "`LORA_AUDIT_MAX_MEMORY_GB`.",
    ),
    ErrorCode(
        "zero-size-weight", BUILD, "A parameter has no elements",
        "`Qwen2ForCausalLM has a parameter with no elements, model.embed_tokens.weight of shape [0, 64]`. A size "
        "in the config (`vocab_size`, `intermediate_size`...) is 0.",
        "Fix the size that is 0 in the config.",
    ),
    ErrorCode(
        "build-failed", BUILD, "Building the model on the meta device failed",
        "`building Qwen2ForCausalLM for model_type 'qwen2' on the meta device failed: ZeroDivisionError: ...`. "
        "The message names the class.",
        "Check the config values the message complains about, or choose another head with `--model-class` / "
        "`--task-type`.",
    ),
    ErrorCode(
        "unknown-model-class", BUILD, "Not a transformers model class",
        "`'LlamaForSomething' is not a transformers model class` (`--model-class`).",
        "Pass a class such as `LlamaForCausalLM` or an auto class such as `AutoModelForSequenceClassification`.",
    ),
    ErrorCode(
        "no-head-for-task", BUILD, "No head for the task type",
        "`transformers has no SEQ_2_SEQ_LM head for model_type 'qwen2'`.",
        "Choose a `--task-type` the model supports, or name the class with `--model-class`.",
    ),
    # ----- Other libraries: diffusers pipelines, sentence-transformers, timm
    ErrorCode(
        "library-missing", LIBRARIES, "The library that builds this model is not installed",
        "`fixtures/tiny/unet/config.json is a diffusers model (UNet2DConditionModel), and diffusers is not "
        "installed`.",
        "Install the extra: `pip install 'lora-audit-cli[diffusers]'` (for a timm model: `pip install "
        "'lora-audit-cli[timm]'`). timm also needs a torchvision built for the installed torch: when `import "
        "timm` fails inside torchvision (`operator torchvision::nms does not exist`), the message quotes it; "
        "install the matching torchvision. A timm older than 1.0.16 cannot read a `local-dir:` config and is "
        "named too old.",
    ),
    ErrorCode(
        "unknown-timm-model", LIBRARIES, "timm has no such model",
        "`timm 1.0.31 has no model 'resnet_made_up_9000'`. The config's `architecture` is not registered in the "
        "installed timm: a newer timm may have it (`pip install -U timm`), or the name is misspelt.",
        "Upgrade timm (`pip install -U timm`), or correct the model name.",
    ),
    ErrorCode(
        "unknown-diffusers-class", LIBRARIES, "diffusers has no such model class",
        "`diffusers 0.42.1 has no model class 'FooTransformer2DModel'`. A newer diffusers may have it; a pipeline "
        "class here means a pipeline's `model_index.json` was passed as a component config.",
        "Upgrade diffusers, or pass the component's own `config.json`, not the pipeline's `model_index.json`.",
    ),
    ErrorCode(
        "task-type-not-applicable", LIBRARIES, "--task-type does not apply to this model",
        "`--task-type CAUSAL_LM names a transformers head; UNet2DConditionModel is a diffusers model without "
        "one`.",
        "Drop `--task-type`: diffusion LoRA configs have none.",
    ),
    ErrorCode(
        "component-not-pipeline", LIBRARIES, "--component given for a single model",
        "`--component unet applies to a diffusers pipeline (a model_index.json), and ... is a single model`.",
        "Drop `--component`, or pass the pipeline's directory or hub id.",
    ),
    ErrorCode(
        "unknown-component", LIBRARIES, "The pipeline has no such component",
        "`... (StableDiffusionXLPipeline) has no component 'vae2'; its components: scheduler, text_encoder, ...`.",
        "Pass one of the listed names to `--component`.",
    ),
    ErrorCode(
        "pipeline-no-denoiser", LIBRARIES, "The pipeline has no denoiser to default to",
        "The pipeline has neither a `unet` nor a `transformer` (nor `prior` / `decoder`) component to default to.",
        "Choose the component with `--component`.",
    ),
    ErrorCode(
        "component-not-a-model", LIBRARIES, "The component is not a model",
        "`component 'scheduler' of ... has no config.json: it is not a model LoRA can adapt`.",
        "Choose a model component (the denoiser, or a `text_encoder`).",
    ),
    ErrorCode(
        "component-not-bundled", LIBRARIES, "The catalogue does not hold this component",
        "`the bundled catalogue holds only the denoiser's config.json of "
        "stabilityai/stable-diffusion-xl-base-1.0`. Offline, the catalogue has the `unet` / `transformer` of each "
        "pipeline only; pass a local copy of the pipeline for its other components.",
        "Pass a local copy of the pipeline for its other components.",
    ),
    ErrorCode(
        "component-not-cached", LIBRARIES, "The component is not cached",
        "`vae/config.json of someone/pipe is not in the local Hugging Face cache (its model_index.json is)`.",
        "Go online once to fetch that one file, or pass a local pipeline directory.",
    ),
    ErrorCode(
        "no-transformer-module", LIBRARIES, "The sentence-transformers model has no Transformer module",
        "A sentence-transformers `modules.json` lists no `sentence_transformers.models.Transformer` module, so "
        "there is no model for PEFT to adapt.",
        "Pass a sentence-transformers model whose `modules.json` lists a Transformer module, or the transformer's "
        "own directory.",
    ),
    # ----- The LoRA config
    ErrorCode(
        "lora-config-not-found", LORA, "The LoRA config file does not exist",
        "`lora.yaml: no such file`, or `./adapter has no adapter_config.json` (`--config`).",
        "Check the path.",
    ),
    ErrorCode(
        "lora-config-unreadable", LORA, "The LoRA config file cannot be read",
        "`cannot read PATH: ...` (also `permission denied`), `PATH is larger than 16 MB: not a config file`, or "
        "`PATH is a socket`. A pipe (`--config <(...)`, `/dev/stdin`) is read only while it delivers, for at most "
        "10 s.",
        "Pass the config file itself (UTF-8 JSON or YAML, a few kB).",
    ),
    ErrorCode(
        "lora-config-malformed", LORA, "The LoRA config file is not valid JSON or YAML",
        "`PATH is not valid JSON (line 2, column 1: ...)` or `is not valid YAML (line 4): ...`, or nested too "
        "deeply to be a config. YAML files need a `.yaml` or `.yml` suffix; everything else is read as JSON.",
        "Fix the file; name YAML files `.yaml` or `.yml`.",
    ),
    ErrorCode(
        "lora-config-too-large", LORA, "The LoRA config file holds too many values",
        "`PATH holds, with its aliases expanded, more than 100,000 values`: a YAML alias bomb (under any field), "
        "or a data file. Real LoRA and framework configs hold a few dozen values. The count is made on the parsed "
        "node graph before anything is built, so it costs milliseconds.",
        "Pass the LoRA or framework config itself, without alias bombs.",
    ),
    ErrorCode(
        "lora-config-invalid", LORA, "The LoRA config file is not a mapping",
        "`PATH holds a list, not a mapping of LoraConfig fields`.",
        "Write `key: value` pairs (`r`, `lora_alpha`, `target_modules`...).",
    ),
    ErrorCode(
        "not-a-lora-config", LORA, "Not a LoRA config lora-audit can read",
        "`PATH has no LoraConfig fields` (for instance a model `config.json` passed to `--config`: pass it as "
        "MODEL), `PATH is a IA3 adapter config, not LoRA`, `the file is not a LoRA config lora-audit can read` "
        "(the hint names the formats it knows), or `PATH is an axolotl config with no adapter: it trains the full "
        "model` (or an `adapter` that is not `lora` / `qlora`). Likewise LLaMA-Factory's `finetuning_type: full` "
        "(or `freeze`, `oft`), LoRA with GaLore/APOLLO/BAdam, `pissa_init` on a quantized model, or an "
        "`adapter_name_or_path` it would resume (audit that adapter directory with `--config` instead); TRL's "
        "`use_peft` unset or false (TRL then trains the whole model: add `use_peft: true`).",
        "Pass a LoRA config in one of the formats the hint names.",
    ),
    ErrorCode(
        "invalid-lora-value", LORA, "A LoRA value that cannot train or does not parse",
        "A value PEFT would accept silently but that cannot train, or that does not parse: `r=0 is invalid` (r is "
        "a whole number from 1 to 1048576), `lora_alpha=-16` (a finite number > 0), `lora_dropout=1.5` (in [0, "
        "1)), `bias='foo'` (none, all, lora_only), `task_type='CAUSAL'`, a `target_modules` regex that does not "
        "compile, `use_dora='yes'` (true or false), `--layers 5-2` (runs backwards), `--layers a-b`, "
        "`--rank-pattern q_proj=x`, an empty `--targets \"\"`, an axolotl config without `lora_r` or `lora_alpha` "
        "(axolotl would hand PEFT `None`), TRL's `load_in_4bit` with `load_in_8bit`, or LLaMA-Factory's "
        "`use_llama_pro` with a `freeze_trainable_layers` that does not divide the layer count. The hint says "
        "what is allowed.",
        "Use a value the hint allows.",
    ),
    ErrorCode(
        "regex-too-slow", LORA, "A regex backtracks catastrophically",
        "`target_modules: the pattern '(.*.*)*x' backtracks catastrophically on this model's module names: the "
        "nested repetition '(.*.*)*' can match one text in exponentially many ways`. Every regex PEFT would run "
        "(`target_modules` and `exclude_modules` as strings, `--target-regex`, `rank_pattern` and `alpha_pattern` "
        "keys, `modules_to_save` and `layers_pattern` entries) is first tried against the model's module names, "
        "the way PEFT runs it, with a 2-second limit.",
        "Rewrite the pattern without a repeated group that itself repeats, or list the module names.",
    ),
    ErrorCode(
        "missing-dependency", LORA, "PEFT needs a package that is not installed",
        "`PEFT needs a package that is not installed for this LoRA config: The required package 'scipy' is not "
        "installed` (`init_lora_weights: loftq`).",
        "Install the package, or choose another `init_lora_weights`.",
    ),
    ErrorCode(
        "invalid-lora-config", LORA, "PEFT rejects the LoRA config",
        "`PEFT rejects this LoRA config: ...` (PEFT's own validation, in its words), or, in the Python API, a "
        "`lora_config` that is neither a `peft.LoraConfig` nor a dict.",
        "Fix the field PEFT names.",
    ),
    # ----- A saved adapter (`--adapter`, `lora-audit adapter`)
    ErrorCode(
        "adapter-not-found", ADAPTER, "The adapter does not exist",
        "`./my-adapter: no such file or directory`, or `org/name@main is not a repository on the Hugging Face "
        "Hub, or it is private`.",
        "Pass an adapter directory (`adapter_config.json` + `adapter_model.safetensors`), the `.safetensors` file "
        "itself, or a hub id; log in for a private one.",
    ),
    ErrorCode(
        "adapter-weights-not-found", ADAPTER, "The adapter has no weights file",
        "`./my-adapter has no adapter_model.safetensors (nor adapter_model.bin)`.",
        "Pass the directory `save_pretrained` wrote; to audit a config alone use `--config`.",
    ),
    ErrorCode(
        "adapter-config-not-found", ADAPTER, "The adapter weights have no adapter_config.json",
        "`adapter_model.safetensors: no adapter_config.json beside the weights`.",
        "Keep the two files together, as `save_pretrained` writes them.",
    ),
    ErrorCode(
        "adapter-malformed", ADAPTER, "The adapter file is not valid safetensors",
        "`adapter_model.safetensors is not a valid safetensors file: its header is not JSON` (or the file is "
        "shorter than 8 bytes, ends inside its header, claims a header over 100 MB, or lists a tensor without a "
        "valid dtype and shape).",
        "Save the adapter again with PEFT's `save_pretrained`.",
    ),
    ErrorCode(
        "adapter-unreadable", ADAPTER, "The adapter file cannot be read",
        "`cannot read ./my-adapter/adapter_model.safetensors: Permission denied`.",
        "Check the file.",
    ),
    ErrorCode(
        "adapter-format-unsupported", ADAPTER, "A LoRA file format lora-audit does not audit",
        "A LoRA file in a format lora-audit does not audit: an MLX-LM adapter (`lora_a` / `lora_b` keys, "
        "`fine_tune_type` in its config; the hint names `mlx_lm.fuse`), and a kohya file from the hub (download "
        "it and pass the file). A local diffusers pipeline LoRA (keys under `unet.` / `transformer.`) is read as "
        "`load_lora_weights` reads it; this error remains for what its pipelines read differently or not at all: "
        "`alpha` keys, `dora_scale` keys, keys without a component prefix, a file with text-encoder tensors only, "
        "`lora_adapter_metadata` without the denoiser's entries. A kohya-ss (sd-scripts / A1111 / ComfyUI) "
        "diffusion LoRA is converted with diffusers' own conversion and audited; this error remains when "
        "diffusers cannot convert it (`style.safetensors is a kohya-ss LoRA that diffusers 0.42.1 cannot convert "
        "(_convert_non_diffusers_lora_to_diffusers: KeyError: ...)`: a newer diffusers may know the layout), or "
        "when its conversion depends on tensor values lora-audit does not read (FLUX.1 files whose rank splits "
        "evenly over the fused qkv / linear1 projections: diffusers tests them for sparsity).",
        "Load it with `pipeline.load_lora_weights()`, save it with `save_lora_weights()`, and audit that.",
    ),
    ErrorCode(
        "adapter-base-mismatch", ADAPTER, "The adapter is for another kind of base",
        "`style.safetensors is a kohya-ss LoRA for a UNet (SD 1.x / SDXL) (unet. keys as diffusers loads them); "
        "the base is Qwen2ForCausalLM`. A converted kohya file or a diffusers pipeline LoRA is audited against "
        "the denoiser its keys load into.",
        "Pass the pipeline with `--component unet` (SD 1.x / SDXL) or `--component transformer` (Flux, SD3, "
        "Wan...).",
    ),
    ErrorCode(
        "adapter-base-unknown", ADAPTER, "The adapter names no usable base model",
        "`adapter_config.json names no base_model_name_or_path` with `lora-audit adapter PATH` (a kohya-ss file "
        "never names its base).",
        "Name the base: `lora-audit BASE --adapter PATH` (or `lora-audit adapter PATH --base BASE`). When the "
        "name it gives cannot be used (a path on the training machine), the model's own error code is kept and "
        "the hint says the same.",
    ),
    # ----- The command line and settings
    ErrorCode(
        "usage", CLI, "The command line cannot be parsed",
        "A flag click cannot parse (`No such option '--rnak'`, `Invalid value for '--bias'`), two flags that "
        "contradict each other (`--targets` with `--target-regex`), or `--json \"\"`.",
        "See `lora-audit --help`.",
    ),
    ErrorCode(
        "unknown-rule", CLI, "Not a rule code or name",
        "`'LA999' in --select is not a rule code or name` (also `--ignore`, `[tool.lora-audit]`, and `lora-audit "
        "rules CODE`). `lora-audit rules` lists the codes and names.",
        "Run `lora-audit rules` for the codes and names.",
    ),
    ErrorCode(
        "settings-invalid", CLI, "The settings in pyproject.toml are invalid",
        "`[tool.lora-audit] in pyproject.toml: fail-on must be one of error, warning, info, never`, or a "
        "`pyproject.toml` that is not valid TOML.",
        "See the README's \"Settings\".",
    ),
    ErrorCode(
        "json-is-input", CLI, "--json names one of the run's inputs",
        "`--json config.json is one of this run's inputs`: the report would overwrite the model's config, the "
        "`--config` file or `pyproject.toml` (also through a symlink).",
        "Write the report elsewhere.",
    ),
    ErrorCode(
        "json-unwritable", CLI, "The JSON report cannot be written",
        "`cannot write the JSON report to out/report.json: No such file or directory` (`--json PATH`).",
        "Pass a path in an existing, writable directory. An existing regular file is replaced atomically (a "
        "temporary file beside it, then a rename; a symlink is followed and the file it points to is replaced the "
        "same way); `/dev/stdout` or a pipe is written through. The temporary file is removed if the run is "
        "interrupted or terminated (SIGTERM).",
    ),
    # ----- `lora-audit check` and the baseline
    ErrorCode(
        "no-audits", CHECK, "Nothing to check",
        "`nothing to check: no audits declared and no config files given`.",
        "Declare pairs in `pyproject.toml` (`[tool.lora-audit] audits = [{ model = \"org/name\", config = "
        "\"lora.yaml\" }]`) or in a `lora-audit.toml`, or pass config files to `lora-audit check`.",
    ),
    ErrorCode(
        "audits-invalid", CHECK, "The declared audits are invalid",
        "`audits in pyproject.toml: entry 2 has unknown keys confg`: an `audits` list that is not a list of "
        "tables, an entry with neither `model` nor `config`, or a key other than `model`, `config`, `revision`, "
        "`task-type`, `model-class`, `trust-remote-code` and `lora`.",
        "Fix the entry named: a table with `model` and/or `config`, and only the keys listed.",
    ),
    ErrorCode(
        "no-model", CHECK, "A config file names no model to audit it against",
        "`train/lora.yaml names no model to audit it against`: a config file given to `lora-audit check` that no "
        "declared pair names and that does not name its base model itself (a PEFT `LoraConfig` file does not).",
        "Pass `--model MODEL`, or declare the pair.",
    ),
    ErrorCode(
        "baseline-invalid", CHECK, "The baseline cannot be read",
        "`baseline lora-audit-baseline.json: not readable JSON`, `no such file`, or a file that is not a "
        "lora-audit baseline.",
        "Write one with `--write-baseline FILE`.",
    ),
    ErrorCode(
        "baseline-unwritable", CHECK, "The baseline cannot be written",
        "`cannot write the baseline to out/baseline.json: No such file or directory` (`--write-baseline FILE`).",
        "Pass a path in an existing, writable directory.",
    ),
    # ----- Internal errors
    ErrorCode(
        "internal-error", INTERNAL, "A bug in lora-audit or a library it calls",
        "`internal error: ZeroDivisionError: ...`: a bug in lora-audit or in a library it calls, not a problem "
        "with your input. The exit code is still 2 (never 1, which CI reads as \"findings\"), and the line asks for "
        "a report at the issue tracker. `--debug` (or `LORA_AUDIT_DEBUG=1`) prints the traceback; the Python API "
        "raises `AuditError` with this code and the original exception as its `__cause__`.",
        "Report it at the issue tracker with the command you ran (`--debug` prints the traceback).",
    ),
)

#: code -> ErrorCode
CODES: dict[str, ErrorCode] = {entry.code: entry for entry in CODES_IN_ORDER}
