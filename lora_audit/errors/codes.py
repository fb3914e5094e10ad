"""Every error code lora-audit raises, as data: the section of docs/errors.md it belongs to, the
message as users see it, and what it means with the fix.

``docs/errors.md`` is generated from this table (``python scripts/gen_errors_doc.py``) and a test keeps it
in step; another test fails when an ``AuditError`` is raised with a code that is not here, or a code
here is raised nowhere. The text is markdown.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ErrorCode:
    """One stable error code (``AuditError.code``) and its documentation."""

    code: str
    section: str
    #: The first sentence of its entry: the error line as users see it (with placeholders).
    message: str
    #: What it means and how to fix it (markdown, may be empty when the message says it all).
    explanation: str = ""


#: Each section's title and the paragraph under it (before its first code), in page order.
SECTIONS: dict[str, str] = {
    'The model': (
        '\n'
    ),
    'Building the model': (
        '\n'
    ),
    'Other libraries: diffusers pipelines, sentence-transformers, timm': (
        '\n'
    ),
    'The LoRA config': (
        '\n'
    ),
    'A training script, notebook or tutorial': (
        '\n'
        'A `.py` file, a Jupyter notebook or a Markdown tutorial is read with Python\'s own parser and never\n'
        'run, imported or evaluated.\n'
        '\n'
    ),
    'A saved adapter (`--adapter`, `lora-audit adapter`)': (
        '\n'
        'Only `adapter_config.json` and the safetensors header are ever read; tensor data never is, and a\n'
        'pickle (`adapter_model.bin`) is never opened: it is reported as finding LA047, not as an error.\n'
        '`offline-not-cached`, `gated-repo`, `revision-not-found` and `hub-unreachable` above apply to a hub\n'
        'adapter too.\n'
        '\n'
    ),
    'The command line and settings': (
        '\n'
    ),
    '`lora-audit check` and the baseline': (
        '\n'
        'With `lora-audit check`, a pair that cannot be audited (any error above) does not stop the others:\n'
        'it is reported in the combined output (`"error"` in its entry of the JSON, a row of the summary\n'
        'table, an `::error` annotation), one line on stderr names it, and the exit code is 2.\n'
        '\n'
    ),
    'Internal errors': (
        '\n'
    ),
}

CODES: dict[str, ErrorCode] = {code.code: code for code in (
    ErrorCode(
        'model-missing',
        'The model',
        '`no model given`, or `no model given, and lora.yaml names no base model`.',
        ' Pass a hub id such as\n'
        '`Qwen/Qwen2.5-0.5B`, a model directory or a `config.json`. When MODEL is left out, the config file\n'
        'must name the model (`base_model`, `model_name_or_path`, `base_model_name_or_path`); when the model it\n'
        'names cannot be found (not cached, not bundled, hub unreachable), the error of that lookup says to\n'
        'pass MODEL.\n'
        '\n',
    ),
    ErrorCode(
        'path-not-found',
        'The model',
        '`./models/llama: no such file or directory` (MODEL looks like a path: it starts with `.`, `/` or\n'
        '`~`, ends in `.json`, or has more than one `/`).',
        ' Check the path, or pass a hub id.\n'
        '\n',
    ),
    ErrorCode(
        'invalid-model-id',
        'The model',
        "`'my model' is neither an existing path nor a valid hub id`.",
        ' A hub id is `org/name`.\n'
        '\n',
    ),
    ErrorCode(
        'no-config-json',
        'The model',
        '`./checkpoint has no config.json`, or `org/name@main has no config.json on the hub`.',
        ' Point at the\n'
        "directory that holds the model's `config.json` (not a checkpoint or adapter directory).\n"
        '\n',
    ),
    ErrorCode(
        'weights-file',
        'The model',
        "`model.safetensors is a weights file; lora-audit reads only the model's config.json`.",
        ' Pass the\n'
        'directory, or the `config.json` next to the weights.\n'
        '\n',
    ),
    ErrorCode(
        'config-unreadable',
        'The model',
        '`cannot read PATH: ...` (also `permission denied`), `PATH is larger than 16 MB: not a config file`,\n'
        'or `PATH is a named pipe (FIFO) / a socket / a character device, not a config file` (MODEL is never\n'
        'read from a special file, so nothing blocks on it).',
        " Pass the model's `config.json` (UTF-8 JSON, a few kB).\n"
        '\n',
    ),
    ErrorCode(
        'config-malformed',
        'The model',
        '`PATH is not valid JSON (line 3, column 5: ...)`; also a file that holds a list instead of an\n'
        'object, a `model_type` that is not a string, `architectures` that are not a list of class names,\n'
        'or a number no model can have (`PATH: text_config.hidden_size is a 20000-bit integer`, or an\n'
        'integer of more than 4,300 digits).',
        " Fix the file, or fetch a fresh copy of the model's `config.json`.\n"
        '\n',
    ),
    ErrorCode(
        'config-too-large',
        'The model',
        '`PATH holds more than 500,000 values: not a model config`.',
        ' The largest real configs (a 21k-label\n'
        '`id2label`) hold tens of thousands; transformers copies a config several times while loading it,\n'
        "so a config of junk would cost minutes and gigabytes. Pass the model's `config.json`.\n"
        '\n',
    ),
    ErrorCode(
        'config-no-model-type',
        'The model',
        '`PATH has no model_type`.',
        ' Pass a transformers `config.json`; if the file is a LoRA adapter config,\n'
        'pass it with `--config` and the base model as MODEL.\n'
        '\n',
    ),
    ErrorCode(
        'offline-not-cached',
        'The model',
        '`offline, and config.json of org/name is neither in the local Hugging Face cache nor in the\n'
        'bundled catalogue`.',
        ' Go online once (unset `HF_HUB_OFFLINE`, drop `--offline`), or pass a local\n'
        'directory. The catalogue holds only the `main` revision of each bundled model.\n'
        '\n',
    ),
    ErrorCode(
        'model-not-found',
        'The model',
        '`org/name is not a model on the Hugging Face Hub, or it is private`.',
        ' Check the id; for a private\n'
        'repository log in (`hf auth login`, or set `HF_TOKEN`).\n'
        '\n',
    ),
    ErrorCode(
        'gated-repo',
        'The model',
        '`org/name is a gated repository`.',
        ' Accept the licence on huggingface.co and log in, or pass a local\n'
        'directory. Gated models in the bundled catalogue (Llama, Gemma, Mistral...) need neither: the\n'
        'catalogue copy is used.\n'
        '\n',
    ),
    ErrorCode(
        'revision-not-found',
        'The model',
        "`org/name has no revision 'v2'`.",
        ' Pass an existing branch, tag or commit with `--revision`.\n'
        '\n',
    ),
    ErrorCode(
        'hub-unreachable',
        'The model',
        '`cannot reach the Hugging Face Hub to fetch config.json of org/name@main (...), and it is neither\n'
        'cached nor bundled`.',
        ' lora-audit asks the hub once, without retries, and falls back to the bundled\n'
        'catalogue when it has the model. Each fetch has a total deadline (`LORA_AUDIT_HUB_DEADLINE` seconds,\n'
        'by default three times `HF_HUB_ETAG_TIMEOUT`, i.e. 15 s), however slowly the server trickles its\n'
        'answer. A mirror (`HF_ENDPOINT`) that answers 403 or 404 for a bundled model falls back to the\n'
        'catalogue too. Check the network or `HF_ENDPOINT`, or pass a local directory.\n'
        '\n',
    ),
    ErrorCode(
        'hub-environment',
        'The model',
        "`the environment variable HF_HUB_ETAG_TIMEOUT='abc' is not a whole number of seconds` (also\n"
        '`HF_HUB_DOWNLOAD_TIMEOUT`, and `LORA_AUDIT_HUB_DEADLINE`, which must be a positive number), or any\n'
        'other setting that stops huggingface_hub from starting.',
        ' Fix or unset the variable named.\n'
        '\n',
    ),
    ErrorCode(
        'hub-cache-unwritable',
        'The model',
        '`cannot write the Hugging Face cache (Permission denied: PATH)`, when config.json was fetched but\n'
        'cannot be stored.',
        ' Point `HF_HOME` (or `HF_HUB_CACHE`) at a writable directory.\n'
        '\n',
    ),
    ErrorCode(
        'hub-error',
        'The model',
        '`the Hugging Face Hub refused config.json of org/name@main: ...` (an HTTP error other than the\n'
        'ones above).',
        ' Try again later, or pass a local directory.\n'
        '\n',
    ),
    ErrorCode(
        'invalid-model',
        'The model',
        'Python API only: `model must be a hub id, a path or an nn.Module, not int`.',
        '\n'
        '\n',
    ),
    ErrorCode(
        'module-not-clonable',
        'The model',
        'Python API only: `cannot make a weightless copy of the given MyModel`.',
        ' Pass the model id or path\n'
        'instead of the module.\n'
        '\n',
    ),
    ErrorCode(
        'unknown-model-type',
        'Building the model',
        "`transformers 5.23.0 does not know model_type 'llama99'`.",
        ' The message names the installed\n'
        'transformers: a newer release may know the model (`pip install -U transformers`); the model card\n'
        'says which version it needs.\n'
        '\n',
    ),
    ErrorCode(
        'remote-code-required',
        'Building the model',
        "`model_type 'foo' is not built into transformers: this model needs the custom code its repository\n"
        'ships (auto_map: AutoConfig, AutoModelForCausalLM)`.',
        " lora-audit imports a repository's code only\n"
        'with `--trust-remote-code`; read that code first. Without the flag nothing from the repository is\n'
        'imported.\n'
        '\n',
    ),
    ErrorCode(
        'config-invalid',
        'Building the model',
        '`transformers cannot load PATH as a qwen2 config: ...`.',
        ' Fix the value transformers names.\n'
        '\n',
    ),
    ErrorCode(
        'empty-model',
        'Building the model',
        '`the config has num_hidden_layers=0: a model with no layers has nothing for LoRA to adapt`.',
        '\n'
        '\n',
    ),
    ErrorCode(
        'too-many-layers',
        'Building the model',
        '`the config has encoder_layers=100000: lora-audit builds models of up to 2048 layers`, or `the config\n'
        'asks for 3,000 layers in all (decoder_layers=1500, encoder_layers=1500): building them would need\n'
        '~1.2 GB and ~36 s`.',
        ' Every field that counts layers is read, whatever the architecture calls it\n'
        "(`num_hidden_layers`, `encoder_layers`, `n_layer`, `depth`, Swin's `depths`...), in the config and\n"
        'its sub-configs. Check the config; a wrong layer count would otherwise take hours to build.\n'
        '\n',
    ),
    ErrorCode(
        'budget-exceeded',
        'Building the model',
        '`the audit (reading the config, building, applying) took longer than the 300 s budget`, or\n'
        '`needed more than the 8 GB memory\n'
        'budget` (also: `the audit ran out of memory`).',
        ' Real models take under a minute and 1 GB (Llama-3.1-405B\n'
        "with all-linear: 17 s, 0.4 GB). Check the config's sizes; raise the budgets with `--timeout SECONDS`\n"
        'or `LORA_AUDIT_TIMEOUT`, and `LORA_AUDIT_MAX_MEMORY_GB`.\n'
        '\n',
    ),
    ErrorCode(
        'zero-size-weight',
        'Building the model',
        '`Qwen2ForCausalLM has a parameter with no elements, model.embed_tokens.weight of shape [0, 64]`.',
        '\n'
        'A size in the config (`vocab_size`, `intermediate_size`...) is 0.\n'
        '\n',
    ),
    ErrorCode(
        'build-failed',
        'Building the model',
        "`building Qwen2ForCausalLM for model_type 'qwen2' on the meta device failed: ZeroDivisionError:\n"
        '...`.',
        ' The message names the class; check the config values it complains about, or choose another\n'
        'head with `--model-class` / `--task-type`.\n'
        '\n',
    ),
    ErrorCode(
        'unknown-model-class',
        'Building the model',
        "`'LlamaForSomething' is not a transformers model class` (`--model-class`).",
        ' Pass a class such as\n'
        '`LlamaForCausalLM` or an auto class such as `AutoModelForSequenceClassification`.\n'
        '\n',
    ),
    ErrorCode(
        'no-head-for-task',
        'Building the model',
        "`transformers has no SEQ_2_SEQ_LM head for model_type 'qwen2'`.",
        ' Choose a `--task-type` the model\n'
        'supports, or name the class with `--model-class`.\n'
        '\n',
    ),
    ErrorCode(
        'library-missing',
        'Other libraries: diffusers pipelines, sentence-transformers, timm',
        '`fixtures/tiny/unet/config.json is a diffusers model (UNet2DConditionModel), and diffusers is not\n'
        'installed`.',
        " Install the library, as lora-audit's extra declares it: `pip install 'diffusers>=0.42.1'` (for a timm\n"
        "model: `pip install 'timm>=1.0.16'`). timm also needs a torchvision built for the installed torch:\n"
        'when `import timm` fails inside torchvision (`operator torchvision::nms does not exist`), the\n'
        'message quotes it; install the matching torchvision. A timm older than 1.0.16 cannot read a\n'
        '`local-dir:` config and is named too old.\n'
        '\n',
    ),
    ErrorCode(
        'unknown-timm-model',
        'Other libraries: diffusers pipelines, sentence-transformers, timm',
        "`timm 1.0.31 has no model 'resnet_made_up_9000'`.",
        " The config's `architecture` is not registered in\n"
        'the installed timm: a newer timm may have it (`pip install -U timm`), or the name is misspelt.\n'
        '\n',
    ),
    ErrorCode(
        'unknown-diffusers-class',
        'Other libraries: diffusers pipelines, sentence-transformers, timm',
        "`diffusers 0.42.1 has no model class 'FooTransformer2DModel'`.",
        ' A newer diffusers may have it; a\n'
        "pipeline class here means a pipeline's `model_index.json` was passed as a component config.\n"
        '\n',
    ),
    ErrorCode(
        'task-type-not-applicable',
        'Other libraries: diffusers pipelines, sentence-transformers, timm',
        '`--task-type CAUSAL_LM names a transformers head; UNet2DConditionModel is a diffusers model\n'
        'without one`.',
        ' Drop `--task-type`: diffusion LoRA configs have none.\n'
        '\n',
    ),
    ErrorCode(
        'component-not-pipeline',
        'Other libraries: diffusers pipelines, sentence-transformers, timm',
        '`--component unet applies to a diffusers pipeline (a model_index.json), and ... is a single\n'
        'model`.',
        " Drop `--component`, or pass the pipeline's directory or hub id.\n"
        '\n',
    ),
    ErrorCode(
        'unknown-component',
        'Other libraries: diffusers pipelines, sentence-transformers, timm',
        "`... (StableDiffusionXLPipeline) has no component 'vae2'; its components: scheduler, text_encoder,\n"
        '...`.',
        ' Pass one of the listed names to `--component`.\n'
        '\n',
    ),
    ErrorCode(
        'pipeline-no-denoiser',
        'Other libraries: diffusers pipelines, sentence-transformers, timm',
        'The pipeline has neither a `unet` nor a `transformer` (nor `prior` / `decoder`) component to\n'
        'default to.',
        ' Choose the component with `--component`.\n'
        '\n',
    ),
    ErrorCode(
        'component-not-a-model',
        'Other libraries: diffusers pipelines, sentence-transformers, timm',
        "`component 'scheduler' of ... has no config.json: it is not a model LoRA can adapt`.",
        ' Choose a\n'
        'model component (the denoiser, or a `text_encoder`).\n'
        '\n',
    ),
    ErrorCode(
        'component-not-bundled',
        'Other libraries: diffusers pipelines, sentence-transformers, timm',
        "`the bundled catalogue holds only the denoiser's config.json of stabilityai/stable-diffusion-xl-base-1.0`.",
        '\n'
        'Offline, the catalogue has the `unet` / `transformer` of each pipeline only; pass a local copy of\n'
        'the pipeline for its other components.\n'
        '\n',
    ),
    ErrorCode(
        'component-not-cached',
        'Other libraries: diffusers pipelines, sentence-transformers, timm',
        '`vae/config.json of someone/pipe is not in the local Hugging Face cache (its model_index.json is)`.',
        '\n'
        'Go online once to fetch that one file, or pass a local pipeline directory.\n'
        '\n',
    ),
    ErrorCode(
        'no-transformer-module',
        'Other libraries: diffusers pipelines, sentence-transformers, timm',
        'A sentence-transformers `modules.json` lists no `sentence_transformers.models.Transformer` module,\n'
        'so there is no model for PEFT to adapt.',
        '\n'
        '\n',
    ),
    ErrorCode(
        'lora-config-not-found',
        'The LoRA config',
        '`lora.yaml: no such file`, or `./adapter has no adapter_config.json` (`--config`).',
        ' Check the path.\n'
        '\n',
    ),
    ErrorCode(
        'lora-config-unreadable',
        'The LoRA config',
        '`cannot read PATH: ...` (also `permission denied`), `PATH is larger than 16 MB: not a config file`, or\n'
        '`PATH is a socket`.',
        ' A pipe (`--config <(...)`, `/dev/stdin`) is read only while it delivers, for at most 10 s.\n'
        '\n',
    ),
    ErrorCode(
        'lora-config-malformed',
        'The LoRA config',
        '`PATH is not valid JSON (line 2, column 1: ...)` or `is not valid YAML (line 4): ...`, or nested\n'
        'too deeply to be a config.',
        ' YAML files need a `.yaml` or `.yml` suffix; everything else is read as\n'
        'JSON.\n'
        '\n',
    ),
    ErrorCode(
        'script-invalid',
        'A training script, notebook or tutorial',
        '`PATH is not valid Python (line 3): invalid syntax`, `nests expressions too deeply for Python\'s\n'
        'parser`, or `PATH is not a Jupyter notebook: not valid JSON`.',
        ' Fix the code; a notebook cell or a Markdown block\n'
        'that is not Python is skipped and listed in the report instead.\n'
        '\n',
    ),
    ErrorCode(
        'script-unresolved',
        'A training script, notebook or tutorial',
        '`train.py: line 12: r=args.rank is known only when the script runs (...)`: an argument that\n'
        'shapes what PEFT builds comes from outside the script (the command line, a file, a function\'s\n'
        'parameter).',
        ' Pass it with the flag the hint names (`-r`, `--targets`, `--alpha`...), or write it\n'
        'as a literal. lora-audit never guesses it: a default in its place would be a wrong number.\n'
        '\n',
    ),
    ErrorCode(
        'script-several-configs',
        'A training script, notebook or tutorial',
        '`PATH builds 3 LoRA configs (line 6, line 7, line 8)`, from the Python API, which audits one.',
        ' The\n'
        'command line audits each of them (`lora-audit train.py`); in Python, pass `config_select=N`.\n'
        '\n',
    ),
    ErrorCode(
        'script-not-understood',
        'A training script, notebook or tutorial',
        '`LoraConfig(...) is built inside the loop at line 20`, `is a subclass of LoraConfig defined in\n'
        'the script`, or positional arguments to `LoraConfig`: code whose config reading cannot know.',
        ' Write\n'
        'one plain `LoraConfig(...)` with keyword arguments, or pass the config as a file with `--config`.\n'
        '\n',
    ),
    ErrorCode(
        'lora-config-too-large',
        'The LoRA config',
        '`PATH holds, with its aliases expanded, more than 100,000 values`: a YAML alias bomb (under any\n'
        'field), or a data file.',
        ' Real LoRA and framework configs hold a few dozen values. The count is made\n'
        'on the parsed node graph before anything is built, so it costs milliseconds.\n'
        '\n',
    ),
    ErrorCode(
        'lora-config-invalid',
        'The LoRA config',
        '`PATH holds a list, not a mapping of LoraConfig fields`.',
        ' Write `key: value` pairs (`r`,\n'
        '`lora_alpha`, `target_modules`...).\n'
        '\n',
    ),
    ErrorCode(
        'unknown-method',
        'The LoRA config',
        "`--method: 'lohaa' is not a PEFT method the installed PEFT knows` (or a file's `peft_type`).",
        ' The methods are those the installed PEFT registers (`peft.PEFT_TYPE_TO_CONFIG_MAPPING`): `lora`,\n'
        '`loha`, `lokr`, `ia3`, `oft`, `vera`, `prefix_tuning`...; the hint names the closest.\n'
        '\n',
    ),
    ErrorCode(
        'method-not-auditable',
        'The LoRA config',
        '`XLORA cannot be audited on its own`: X-LoRA mixes LoRA adapters that are already trained.',
        ' Audit each of the adapters it names with `--config`.\n'
        '\n',
    ),
    ErrorCode(
        'method-needs-weights',
        'The LoRA config',
        "`PEFT's FROD initialises its adapter from the values of the base weights (...)`: the method's\n"
        'initialisation decomposes or samples the base weights (FRoD, SHiRA\'s random mask), and lora-audit\n'
        'builds the model without weights.',
        ' The matching is the same for every method: audit the targets with LoRA, or count on a\n'
        'materialised small model.\n'
        '\n',
    ),
    ErrorCode(
        'not-a-lora-config',
        'The LoRA config',
        '`PATH has no LoraConfig fields` (for instance a model `config.json` passed to `--config`: pass it\n'
        'as MODEL), `the file is not a LoRA config lora-audit can read` (the hint names the formats it knows),\n'
        'or `PATH is an axolotl config with no adapter: it trains the full model` (or an `adapter` that is not\n'
        '`lora` / `qlora`).',
        " Likewise LLaMA-Factory's\n"
        '`finetuning_type: full` (or `freeze`, `oft`), LoRA with GaLore/APOLLO/BAdam, `pissa_init` on a\n'
        'quantized model, or an `adapter_name_or_path` it would resume (audit that adapter directory with\n'
        "`--config` instead); TRL's `use_peft` unset or false (TRL then trains the whole model: add\n"
        '`use_peft: true`).\n'
        '\n',
    ),
    ErrorCode(
        'invalid-lora-value',
        'The LoRA config',
        'A value PEFT would accept silently but that cannot train, or that does not parse: `r=0 is invalid`\n'
        '(r is a whole number from 1 to 1048576), `lora_alpha=-16` (a finite number > 0),\n'
        "`lora_dropout=1.5` (in [0, 1)), `bias='foo'` (none, all, lora_only), `task_type='CAUSAL'`, a\n"
        "`target_modules` regex that does not compile, `use_dora='yes'` (true or false), `--layers 5-2`\n"
        '(runs backwards), `--layers a-b`, `--rank-pattern q_proj=x`, an empty `--targets ""`, an axolotl\n'
        "config without `lora_r` or `lora_alpha` (axolotl would hand PEFT `None`), TRL's `load_in_4bit` with\n"
        "`load_in_8bit`, or LLaMA-Factory's `use_llama_pro` with a `freeze_trainable_layers` that does not\n"
        'divide the layer count.',
        ' The hint says what is allowed.\n'
        '\n',
    ),
    ErrorCode(
        'regex-too-slow',
        'The LoRA config',
        "`target_modules: the pattern '(.*.*)*x' backtracks catastrophically on this model's module names:\n"
        "the nested repetition '(.*.*)*' can match one text in exponentially many ways`.",
        ' Every regex PEFT\n'
        'would run (`target_modules` and `exclude_modules` as strings, `--target-regex`, `rank_pattern` and\n'
        '`alpha_pattern` keys, `modules_to_save` and `layers_pattern` entries) is first tried against the\n'
        "model's module names, the way PEFT runs it, with a 2-second limit. Rewrite the pattern without a\n"
        'repeated group that itself repeats, or list the module names.\n'
        '\n',
    ),
    ErrorCode(
        'missing-dependency',
        'The LoRA config',
        "`PEFT needs a package that is not installed for this LoRA config: The required package 'scipy' is\n"
        'not installed` (`init_lora_weights: loftq`).',
        ' Install the package, or choose another\n'
        '`init_lora_weights`.\n'
        '\n',
    ),
    ErrorCode(
        'invalid-lora-config',
        'The LoRA config',
        "`PEFT rejects this LoRA config: ...` (PEFT's own validation, in its words), or, in the Python API,\n"
        'a `lora_config` that is neither a `peft.LoraConfig` nor a dict.',
        '\n'
        '\n',
    ),
    ErrorCode(
        'adapter-not-found',
        'A saved adapter (`--adapter`, `lora-audit adapter`)',
        '`./my-adapter: no such file or directory`, or `org/name@main is not a repository on the Hugging\n'
        'Face Hub, or it is private`.',
        ' Pass an adapter directory (`adapter_config.json` +\n'
        '`adapter_model.safetensors`), the `.safetensors` file itself, or a hub id; log in for a private one.\n'
        '\n',
    ),
    ErrorCode(
        'adapter-weights-not-found',
        'A saved adapter (`--adapter`, `lora-audit adapter`)',
        '`./my-adapter has no adapter_model.safetensors (nor adapter_model.bin)`.',
        ' Pass the directory\n'
        '`save_pretrained` wrote; to audit a config alone use `--config`.\n'
        '\n',
    ),
    ErrorCode(
        'adapter-config-not-found',
        'A saved adapter (`--adapter`, `lora-audit adapter`)',
        '`adapter_model.safetensors: no adapter_config.json beside the weights`.',
        ' Keep the two files\n'
        'together, as `save_pretrained` writes them.\n'
        '\n',
    ),
    ErrorCode(
        'adapter-malformed',
        'A saved adapter (`--adapter`, `lora-audit adapter`)',
        '`adapter_model.safetensors is not a valid safetensors file: its header is not JSON` (or the file is\n'
        'shorter than 8 bytes, ends inside its header, claims a header over 100 MB, or lists a tensor\n'
        'without a valid dtype and shape).',
        " Save the adapter again with PEFT's `save_pretrained`.\n"
        '\n',
    ),
    ErrorCode(
        'adapter-unreadable',
        'A saved adapter (`--adapter`, `lora-audit adapter`)',
        '`cannot read ./my-adapter/adapter_model.safetensors: Permission denied`.',
        ' Check the file.\n'
        '\n',
    ),
    ErrorCode(
        'adapter-format-unsupported',
        'A saved adapter (`--adapter`, `lora-audit adapter`)',
        'A LoRA file in a format lora-audit does not audit: an MLX-LM adapter (`lora_a` / `lora_b` keys,\n'
        '`fine_tune_type` in its config; the hint names `mlx_lm.fuse`), and a kohya file from the hub\n'
        '(download it and pass the file).',
        ' A local diffusers pipeline LoRA (keys under `unet.` /\n'
        '`transformer.`) is read as `load_lora_weights` reads it; this error remains for what its pipelines\n'
        'read differently or not at all: `alpha` keys, `dora_scale` keys, keys without a component prefix,\n'
        "a file with text-encoder tensors only, `lora_adapter_metadata` without the denoiser's entries.\n"
        "A kohya-ss (sd-scripts / A1111 / ComfyUI) diffusion LoRA is converted with diffusers' own\n"
        'conversion and audited; this error remains when diffusers cannot convert it\n'
        '(`style.safetensors is a kohya-ss LoRA that diffusers 0.42.1 cannot convert\n'
        '(_convert_non_diffusers_lora_to_diffusers: KeyError: ...)`: a newer diffusers may know the\n'
        'layout), or when its conversion depends on tensor values lora-audit does not read (FLUX.1 files\n'
        'whose rank splits evenly over the fused qkv / linear1 projections: diffusers tests them for\n'
        'sparsity). Load it with `pipeline.load_lora_weights()`, save it with `save_lora_weights()`, and\n'
        'audit that.\n'
        '\n',
    ),
    ErrorCode(
        'adapter-base-mismatch',
        'A saved adapter (`--adapter`, `lora-audit adapter`)',
        '`style.safetensors is a kohya-ss LoRA for a UNet (SD 1.x / SDXL) (unet. keys as diffusers loads\n'
        'them); the base is Qwen2ForCausalLM`.',
        ' A converted kohya file or a diffusers pipeline LoRA is\n'
        'audited against the denoiser its keys load into: pass the pipeline with `--component unet`\n'
        '(SD 1.x / SDXL) or `--component transformer` (Flux, SD3, Wan...).\n'
        '\n',
    ),
    ErrorCode(
        'adapter-base-unknown',
        'A saved adapter (`--adapter`, `lora-audit adapter`)',
        '`adapter_config.json names no base_model_name_or_path` with `lora-audit adapter PATH` (a kohya-ss\n'
        'file never names its base).',
        ' Name the\n'
        'base: `lora-audit BASE --adapter PATH` (or `lora-audit adapter PATH --base BASE`). When the name it\n'
        "gives cannot be used (a path on the training machine), the model's own error code is kept and the\n"
        'hint says the same.\n'
        '\n',
    ),
    ErrorCode(
        'usage',
        'The command line and settings',
        "A flag click cannot parse (`No such option '--rnak'`, `Invalid value for '--bias'`), two flags\n"
        'that contradict each other (`--targets` with `--target-regex`), or `--json ""`.',
        ' See\n'
        '`lora-audit --help`.\n'
        '\n',
    ),
    ErrorCode(
        'unknown-rule',
        'The command line and settings',
        "`'LA999' in --select is not a rule code or name` (also `--ignore`, `[tool.lora-audit]`, and\n"
        '`lora-audit rules CODE`).',
        ' `lora-audit rules` lists the codes and names.\n'
        '\n',
    ),
    ErrorCode(
        'settings-invalid',
        'The command line and settings',
        '`[tool.lora-audit] in pyproject.toml: fail-on must be one of error, warning, info, never`, or a\n'
        '`pyproject.toml` that is not valid TOML.',
        ' See the README\'s "Settings".\n'
        '\n'
        'Also `trust-remote-code cannot be set in a settings file`, in `[tool.lora-audit]` or in an `audits`\n'
        'entry: a settings file in the checkout is whoever wrote the pull request\'s, so it may never make\n'
        'lora-audit run a repository\'s code. Pass `--trust-remote-code` on the command line (`lora-audit\n'
        'check --trust-remote-code`) if you trust that code.\n'
        '\n',
    ),
    ErrorCode(
        'json-is-input',
        'The command line and settings',
        "`--json config.json is one of this run's inputs`: the report would overwrite the model's config,\n"
        'the `--config` file or `pyproject.toml` (also through a symlink).',
        ' Write the report elsewhere.\n'
        '\n',
    ),
    ErrorCode(
        'json-unwritable',
        'The command line and settings',
        '`cannot write the JSON report to out/report.json: No such file or directory` (`--json PATH`).',
        '\n'
        'Pass a path in an existing, writable directory. An existing regular file is replaced atomically\n'
        '(a temporary file beside it, then a rename; a symlink is followed and the file it points to is\n'
        'replaced the same way); `/dev/stdout` or a pipe is written through. The temporary file is removed\n'
        'if the run is interrupted or terminated (SIGTERM).\n'
        '\n',
    ),
    ErrorCode(
        'no-audits',
        '`lora-audit check` and the baseline',
        '`nothing to check: no audits declared and no config files given`.',
        ' Declare pairs in\n'
        '`pyproject.toml` (`[tool.lora-audit] audits = [{ model = "org/name", config = "lora.yaml" }]`) or\n'
        'in a `lora-audit.toml`, or pass config files to `lora-audit check`.\n'
        '\n',
    ),
    ErrorCode(
        'audits-invalid',
        '`lora-audit check` and the baseline',
        '`audits in pyproject.toml: entry 2 has unknown keys confg`: an `audits` list that is not a list of\n'
        'tables, an entry with neither `model` nor `config`, or a key other than `model`, `config`,\n'
        '`revision`, `task-type`, `model-class` and `lora`.',
        '\n'
        '\n',
    ),
    ErrorCode(
        'no-model',
        '`lora-audit check` and the baseline',
        '`train/lora.yaml names no model to audit it against`: a config file given to `lora-audit check`\n'
        'that no declared pair names and that does not name its base model itself (a PEFT `LoraConfig`\n'
        'file does not).',
        ' Pass `--model MODEL`, or declare the pair.\n'
        '\n',
    ),
    ErrorCode(
        'baseline-invalid',
        '`lora-audit check` and the baseline',
        '`baseline lora-audit-baseline.json: not readable JSON`, `no such file`, or a file that is not a\n'
        'lora-audit baseline.',
        ' Write one with `--write-baseline FILE`.\n'
        '\n',
    ),
    ErrorCode(
        'baseline-unwritable',
        '`lora-audit check` and the baseline',
        '`cannot write the baseline to out/baseline.json: No such file or directory`\n'
        '(`--write-baseline FILE`).',
        ' Pass a path in an existing, writable directory.\n'
        '\n',
    ),
    ErrorCode(
        'internal-error',
        'Internal errors',
        '`internal error: ZeroDivisionError: ...`: a bug in lora-audit or in a library it calls, not a\n'
        'problem with your input.',
        ' The exit code is still 2 (never 1, which CI reads as "findings"), and the\n'
        'line asks for a report at the issue tracker. `--debug` (or `LORA_AUDIT_DEBUG=1`) prints the\n'
        'traceback; the Python API raises `AuditError` with this code and the original exception as its\n'
        '`__cause__`.\n',
    ),
)}
