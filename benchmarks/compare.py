"""Training-step time of the four reference workloads, tinygrad_maas vs PyTorch (when installed), and
the peak memory of a step.

    python -m benchmarks.compare [--rounds 21] [--contenders ours,torch] [--memory]

Times: the contenders alternate in one process, round-robin, medians. With --contenders ours (or torch)
each side runs alone, which avoids two OpenMP pools disturbing each other. --memory runs each (framework,
workload) in a fresh process and reports the growth of its peak resident memory over three steps, from the
resident size after building the model (both frameworks measured the same way).
"""

import argparse
import math
import platform
import subprocess
import sys

import tinygrad_maas as tm
from benchmarks.alternate import median_times, optional_torch
from benchmarks.reference_workloads import NAMES, Framework, build

_MEMORY_PROBE = """
import resource, sys
from benchmarks.reference_workloads import Framework, build
framework = __import__(sys.argv[1])
step, _ = build(Framework(framework), sys.argv[2])
with open("/proc/self/statm") as f:
    resident_before = int(f.read().split()[1]) * resource.getpagesize() / 1024
for _ in range(3):
    step()
print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - resident_before) / 1024)
"""


def _peak_step_memory_mb(framework, name):
    module = "tinygrad_maas" if framework == "ours" else "torch"
    result = subprocess.run([sys.executable, "-c", _MEMORY_PROBE, module, name], capture_output=True, text=True,
                            check=True)
    return float(result.stdout.strip())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=21)
    parser.add_argument("--contenders", default="ours,torch")
    parser.add_argument("--memory", action="store_true", help="also measure each step's peak memory")
    args = parser.parse_args(argv)
    chosen = set(args.contenders.split(","))
    torch = optional_torch() if "torch" in chosen else None
    print(f"one training step, float32; {platform.machine()}, Python {platform.python_version()}, "
          f"{args.rounds} alternating rounds, medians (ms)")
    header = "| workload | tinygrad_maas | PyTorch | ours / PyTorch |"
    if args.memory:
        header += " peak MB ours | peak MB PyTorch |"
    print(header)
    print("|---" * (header.count("|") - 1) + "|")
    ratios = []
    for name in NAMES:
        contenders = {}
        if "ours" in chosen:
            contenders["ours"] = build(Framework(tm), name)[0]
        if torch is not None:
            contenders["torch"] = build(Framework(torch), name)[0]
        medians = {k: v * 1e3 for k, v in median_times(contenders, args.rounds).items()}
        ours, theirs = medians.get("ours"), medians.get("torch")
        ratio = ours / theirs if ours and theirs else None
        if ratio:
            ratios.append(ratio)
        row = (f"| {name} | {f'{ours:.2f}' if ours else '-'} | {f'{theirs:.2f}' if theirs else '-'} | "
               f"{f'{ratio:.2f}' if ratio else '-'} |")
        if args.memory:
            row += f" {_peak_step_memory_mb('ours', name):.1f} |"
            row += f" {_peak_step_memory_mb('torch', name):.1f} |" if torch is not None else " - |"
        print(row)
    if ratios:
        print(f"geometric mean of ours / PyTorch: {math.exp(sum(map(math.log, ratios)) / len(ratios)):.2f}")


if __name__ == "__main__":
    main()
