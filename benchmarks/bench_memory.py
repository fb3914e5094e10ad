"""What --memory costs: the same audit with and without the memory estimate, side by side, in fresh processes.

usage: python benchmarks/bench_memory.py [--repeat 3] [--markdown]

Targets (the will-it-fit issue): --memory on Llama-3-8B costs at most 10 s over the plain audit, and on
the largest dense config at most 30 s (the catalogue has no 70B: Llama-3.1-405B stands in, larger).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STEP = ["--memory", "--batch", "1", "--seq-len", "2048", "--precision", "bf16", "--gpu", "A100-80GB"]
#: (model, LoRA flags, memory flags beyond STEP, the target in seconds over the plain audit)
CASES = [
    ("meta-llama/Meta-Llama-3-8B", ["--targets", "all-linear", "-r", "16"], [], 10.0),
    ("meta-llama/Meta-Llama-3-8B", ["--targets", "all-linear", "-r", "16"],
     ["--gradient-checkpointing", "non-reentrant"], 10.0),
    ("meta-llama/Llama-3.1-405B", ["--targets", "all-linear", "-r", "16"], [], 30.0),
]


def run(args: list[str]) -> tuple[float, dict]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "LORA_AUDIT_NO_PROGRESS": "1", "LORA_AUDIT_NO_CACHE": "1"}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (ROOT, env.get("PYTHONPATH")) if p)
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "lora_audit", *args, "--format", "json", "--no-cache"],
                         capture_output=True, text=True, env=env)
    wall = time.perf_counter() - start
    try:
        report = json.loads(out.stdout)
        if "error" in report:
            raise ValueError(report["error"]["message"])
    except ValueError:
        sys.exit(f"benchmark: {' '.join(args)} printed no report (exit {out.returncode}):\n{out.stderr[-2000:]}")
    return wall, report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--markdown", action="store_true")
    options = parser.parse_args()
    rows = []
    for model, flags, memory_flags, target in CASES:
        plain, memory, report = [], [], {}
        for _ in range(options.repeat):  # alternate, so machine noise hits both alike
            plain.append(run([model, *flags])[0])
            wall, report = run([model, *flags, *STEP, *memory_flags])
            memory.append(wall)
        extra = statistics.median(memory) - statistics.median(plain)
        if "error" in report or report["memory"]["peak_bytes"] is None:
            sys.exit(f"benchmark: {model} {' '.join(flags + memory_flags)} gave no memory figure")
        peak = report["memory"]["peak_bytes"] / 2**30
        verdict = "ok" if extra <= target else f"over {target:g} s"
        rows.append((model, " ".join(flags + memory_flags), statistics.median(plain), statistics.median(memory),
                     extra, peak, verdict))
    if options.markdown:
        print("| model | LoRA flags | audit s | with --memory s | extra s | peak GiB | target |")
        print("|---|---|---:|---:|---:|---:|---|")
        for model, flags, plain_s, memory_s, extra, peak, verdict in rows:
            print(f"| {model} | {flags} | {plain_s:.2f} | {memory_s:.2f} | {extra:.2f} | {peak:.2f} | {verdict} |")
    else:
        for row in rows:
            print(*row, sep="\t")
    return 0 if all(r[-1] == "ok" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
