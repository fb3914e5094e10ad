"""Wall time and peak RSS of the `lora-audit` CLI, against the bare import floor measured in the same run.

    python benchmarks/bench_cli.py [--repeat 3] [--markdown]

Every audit is a fresh process (a cold start, as a user or CI sees it). The floor is
`python -c "import torch, transformers, peft"` (for diffusion models, plus the diffusers model
classes): no audit can be faster than its imports. Floor and
audit runs alternate, and each case's ratio is the median audit time over the median of the floor
runs made beside it, so a machine that slows down mid-run does not skew one case. Targets: every
audit within 1.3x of the floor and under 1 GB peak RSS. Prints a table; exit code 1 if a target
is missed.

Two more rows, measured the same way: `lora-audit check` auditing the CHECK_PAIRS in one process
(target: the floor x 1.3 plus at most 1 s per pair), and a repeated audit answered from the result
cache (target: under 0.5 s wall; no torch, transformers or peft import). Cold audits run with
--no-cache; the cache lives in a temporary folder, never the user's.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CASES = [
    ("Qwen/Qwen2.5-0.5B", "0.49B", ["--targets", "q_proj,k_proj,v_proj,o_proj"]),
    ("Qwen/Qwen2.5-0.5B", "0.49B", ["--targets", "all-linear"]),
    ("meta-llama/Meta-Llama-3-8B", "8.0B", ["--targets", "all-linear", "-r", "16"]),
    ("mistralai/Mixtral-8x7B-v0.1", "46.7B", ["--targets", "all-linear"]),
    ("Qwen/Qwen3-30B-A3B", "30.5B", ["--targets", "q_proj,k_proj,v_proj,o_proj",
                                     "--target-parameters", "mlp.experts.gate_up_proj,mlp.experts.down_proj"]),
    ("meta-llama/Llama-3.1-405B", "406B", ["--targets", "all-linear"]),
    ("deepseek-ai/DeepSeek-V3", "671B", ["--targets", "all-linear"]),
    # diffusion denoisers, against a floor that also imports the diffusers model classes they need
    ("stabilityai/stable-diffusion-xl-base-1.0", "2.6B", ["--targets", "to_k,to_q,to_v,to_out.0", "-r", "4"]),
    ("black-forest-labs/FLUX.1-dev", "11.9B", ["--targets", "to_k,to_q,to_v,to_out.0,to_add_out,ff.net.0.proj",
                                               "-r", "16"]),
]
#: `lora-audit check` on five pairs declared in a temporary pyproject.toml: (model, LoraConfig fields).
CHECK_PAIRS = [
    ("Qwen/Qwen2.5-0.5B", {"target_modules": ["q_proj", "k_proj", "v_proj", "o_proj"]}),
    ("Qwen/Qwen2.5-0.5B", {"target_modules": "all-linear"}),
    ("meta-llama/Meta-Llama-3-8B", {"target_modules": "all-linear", "r": 16}),
    ("mistralai/Mistral-7B-v0.1", {"target_modules": ["q_proj", "v_proj"]}),
    ("google/gemma-2-2b", {"target_modules": "all-linear"}),
]
CHECK_PER_PAIR_S = 1.0
CACHE_HIT_TARGET_S = 0.5
#: Saved-adapter audits: (base, size, LoraConfig fields of the adapter generated for it). The adapter's
#: keys and shapes come from PEFT itself (get_peft_model_state_dict on the meta model), written as a
#: safetensors header over a sparse data section: the audit reads only the header.
ADAPTER_CASES = [
    ("meta-llama/Llama-3.1-405B", "406B", {"r": 16, "target_modules": "all-linear"}),
]
MAKE_ADAPTER = """
import json, struct, sys, torch
from peft import LoraConfig, get_peft_model, get_peft_model_state_dict
from transformers import AutoConfig, AutoModelForCausalLM
from lora_audit import catalogue
base, fields, out = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
config = AutoConfig.from_pretrained(catalogue.find(base).parent)
with torch.device("meta"):
    model = AutoModelForCausalLM.from_config(config)
peft_model = get_peft_model(model, LoraConfig(**fields), low_cpu_mem_usage=True)
header, offset = {}, 0
for key, tensor in get_peft_model_state_dict(peft_model, save_embedding_layers=False).items():
    size = tensor.numel() * 2
    header[key] = {"dtype": "BF16", "shape": list(tensor.shape), "data_offsets": [offset, offset + size]}
    offset += size
blob = json.dumps(header).encode()
with open(out + "/adapter_model.safetensors", "wb") as f:
    f.write(struct.pack("<Q", len(blob)) + blob)
    f.truncate(8 + len(blob) + offset)  # sparse: the size the header promises, no data written
lora = peft_model.peft_config["default"]
lora.base_model_name_or_path = base
lora.save_pretrained(out)
"""
FLOOR = [sys.executable, "-c", "import torch, transformers, peft"]
#: diffusers imports lazily: a model class is what an audit pulls in (its modeling code and configs).
DIFFUSERS_FLOOR = [sys.executable, "-c", "import torch, transformers, peft; "
                   "from diffusers import UNet2DConditionModel, FluxTransformer2DModel"]
FLOORS = {"stabilityai/stable-diffusion-xl-base-1.0": DIFFUSERS_FLOOR, "black-forest-labs/FLUX.1-dev": DIFFUSERS_FLOOR}
#: The CLI disables the cyclic GC (see lora_audit.cli.app); shown for transparency, not used for ratios.
FLOOR_NO_GC = [sys.executable, "-c", "import gc; gc.disable(); import torch, transformers, peft"]
TIME_TARGET = 1.3
RSS_TARGET_MB = 1024


CACHE_DIR = tempfile.mkdtemp(prefix="lora-audit-bench-cache-")


def run(cmd: list[str], cwd: str | None = None) -> tuple[float, float, int]:
    """Wall seconds, peak RSS in MB, exit code of one fresh process.

    An audit counts only if it printed a JSON report: a crash (exit 1 with a traceback) must not
    pass for an audit that found problems (exit 1).
    """
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "LORA_AUDIT_NO_PROGRESS": "1", "LORA_AUDIT_CACHE_DIR": CACHE_DIR}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (ROOT, env.get("PYTHONPATH")) if p)
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env, cwd=cwd)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        code = os.waitstatus_to_exitcode(status)
        if cmd not in (FLOOR, FLOOR_NO_GC, DIFFUSERS_FLOOR):
            out.seek(0)
            try:
                json.loads(out.read())["schema_version"]
            except (ValueError, KeyError):
                err.seek(0)
                stderr = err.read().decode()[-2000:]
                sys.exit(f"benchmark: {' '.join(cmd[2:])} printed no report (exit {code}):\n{stderr}")
    return wall, usage.ru_maxrss / 1024, code


def measure_pair(
    cmd: list[str], repeat: int, floor_cmd: list[str] = FLOOR, cwd: str | None = None
) -> tuple[float, float, float, int, list[float]]:
    """Alternate floor and audit runs: (audit wall, floor wall, audit peak RSS, exit code, floor walls)."""
    floors, audits = [], []
    for _ in range(repeat):
        floors.append(run(floor_cmd))
        audits.append(run(cmd, cwd))
    return (
        statistics.median(a[0] for a in audits),
        statistics.median(f[0] for f in floors),
        max(a[1] for a in audits),
        audits[-1][2],
        [f[0] for f in floors],
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per case; the median wall time is shown")
    parser.add_argument("--markdown", action="store_true", help="print a GitHub markdown table")
    parser.add_argument("--only", metavar="TEXT", help="run only the cases whose model id contains TEXT")
    parser.add_argument("--adapters-only", action="store_true", help="only the saved-adapter cases")
    args = parser.parse_args()

    lora_audit = [sys.executable, "-m", "lora_audit"]  # this checkout's (PYTHONPATH set in run)
    run(FLOOR)  # warm the OS file cache once, for floor and audits alike
    floor_rss = run(FLOOR)[1]
    rows, all_floors, diffusers_floors, ok = [], [], [], True
    for model, size, flags in [] if args.adapters_only else CASES:
        if args.only and args.only.lower() not in model.lower():
            continue
        floor_cmd = FLOORS.get(model, FLOOR)
        wall, floor, rss, code, floors = measure_pair(
            [*lora_audit, model, *flags, "--format", "json", "--no-cache"], args.repeat, floor_cmd
        )
        if floor_cmd is FLOOR:
            all_floors += floors
        else:
            diffusers_floors += floors
        ratio = wall / floor
        passed = ratio <= TIME_TARGET and rss < RSS_TARGET_MB and code in (0, 1)
        ok &= passed
        rows.append((model, size, " ".join(flags), wall, ratio, rss, "ok" if passed else f"MISS (exit {code})"))

    if not args.adapters_only and not args.only:
        with tempfile.TemporaryDirectory() as project:
            declared = ",\n".join(f"  {{ model = {json.dumps(m)}, lora = {_toml_table(f)} }}" for m, f in CHECK_PAIRS)
            with open(os.path.join(project, "pyproject.toml"), "w") as handle:
                handle.write(f"[tool.lora-audit]\naudits = [\n{declared},\n]\n")
            cmd = [*lora_audit, "check", "--format", "json", "--no-cache"]
            wall, floor, rss, code, floors = measure_pair(cmd, args.repeat, cwd=project)
        all_floors += floors
        k = len(CHECK_PAIRS)
        passed = wall <= TIME_TARGET * floor + k * CHECK_PER_PAIR_S and rss < RSS_TARGET_MB and code in (0, 1)
        ok &= passed
        rows.append((f"lora-audit check: {k} pairs in one process ({(wall - floor) / k:.2f} s per pair over the floor)",
                     "", "", wall, wall / floor, rss, f"ok (<= {TIME_TARGET}x + {CHECK_PER_PAIR_S:g} s/pair)"
                     if passed else f"MISS (exit {code})"))

        model, _size, flags = CASES[0]
        cached = [*lora_audit, model, *flags, "--format", "json"]
        run(cached)  # fills the cache
        wall, floor, rss, code, floors = measure_pair(cached, args.repeat)
        all_floors += floors
        passed = wall < CACHE_HIT_TARGET_S and code in (0, 1)
        ok &= passed
        verdict = f"ok (< {CACHE_HIT_TARGET_S} s)" if passed else f"MISS (exit {code}, target < {CACHE_HIT_TARGET_S} s)"
        rows.append((f"{model}, answered from the result cache", CASES[0][1], " ".join(flags), wall, wall / floor, rss,
                     verdict))
    with tempfile.TemporaryDirectory() as tmp:
        for i, (model, size, fields) in enumerate([] if args.only else ADAPTER_CASES):
            directory = os.path.join(tmp, f"adapter-{i}")
            os.mkdir(directory)
            subprocess.run([sys.executable, "-c", MAKE_ADAPTER, model, json.dumps(fields), directory], check=True,
                           env={**os.environ, "HF_HUB_OFFLINE": "1"}, capture_output=True)
            wall, floor, rss, code, floors = measure_pair([*lora_audit, "adapter", directory, "--format", "json"],
                                                          args.repeat)
            all_floors += floors
            ratio = wall / floor
            passed = ratio <= TIME_TARGET and rss < RSS_TARGET_MB and code == 0
            ok &= passed
            flags = "adapter (" + ", ".join(f"{k}={v}" for k, v in fields.items()) + "; saved adapter, header read)"
            rows.append((model, size, flags, wall, ratio, rss, "ok" if passed else f"MISS (exit {code})"))
    floor = statistics.median(all_floors or [run(FLOOR)[0] for _ in range(args.repeat)])
    no_gc = statistics.median(run(FLOOR_NO_GC)[0] for _ in range(args.repeat))
    rows.insert(0, ("import torch, transformers, peft (the floor)", "", "", floor, 1.0, floor_rss, ""))
    rows.insert(1, ("same, gc disabled as the CLI runs (for reference)", "", "", no_gc, no_gc / floor, 0.0, ""))
    if diffusers_floors:
        at = next(i for i, r in enumerate(rows) if r[0] in FLOORS)
        rows.insert(at, ("same + from diffusers import UNet2DConditionModel, FluxTransformer2DModel (their floor)",
                         "", "", statistics.median(diffusers_floors), 1.0, run(DIFFUSERS_FLOOR)[1], ""))

    headers = ("command", "params", "LoRA flags", "wall s", "x floor", "peak RSS MB", f"<= {TIME_TARGET}x, < 1 GB")
    cells = [(r[0], r[1], r[2], f"{r[3]:.2f}", f"{r[4]:.2f}", f"{r[5]:.0f}" if r[5] else "-", r[6]) for r in rows]
    if args.markdown:
        print("| " + " | ".join(headers) + " |")
        print("|" + "|".join("---:" if i in (3, 4, 5) else "---" for i in range(len(headers))) + "|")
        for c in cells:
            print("| " + " | ".join(c) + " |")
    else:
        widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(headers)]
        print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
        for c in cells:
            print("  ".join(v.ljust(w) for v, w in zip(c, widths, strict=True)))
    print(f"\npython {sys.version.split()[0]}, {os.cpu_count()} CPUs, median of {args.repeat} cold runs each")
    return 0 if ok else 1


def _toml_table(fields: dict) -> str:
    return "{ " + ", ".join(f"{k} = {json.dumps(v)}" for k, v in fields.items()) + " }"


if __name__ == "__main__":
    sys.exit(main())
