"""Training-step time of the four reference workloads, tinygrad_maas vs PyTorch (when installed), and
the peak memory of a step.

    python -m benchmarks.compare [--rounds 21] [--contenders ours,torch] [--memory]

Times: the contenders alternate in one process, round-robin, medians. Two OpenMP thread pools share this
process (numba's and PyTorch's), and by default PyTorch's keep spinning after its step, starving whatever
runs next (measured: our mlp step 15 ms instead of 2.6); so when both run, this script sets
OMP_WAIT_POLICY=PASSIVE for the whole process before PyTorch loads, for both frameworks alike (it slows
PyTorch's GRU step about 2x, so runs of one side alone keep each framework's default). With --contenders ours
(or torch) each side runs alone: report both. --memory runs each (framework, workload) in a fresh process
with glibc told to return every array above 64 KiB to the system when freed, warms it up with one step, resets the peak
resident size (/proc/self/clear_refs) and reports how far three more steps push the peak above the resident
size before them: the memory a step keeps alive at its peak (Linux only; both frameworks alike).
"""

import argparse
import math
import os
import platform
import subprocess
import sys

import tinygrad_maas as tm
from benchmarks.alternate import median_times, optional_torch
from benchmarks.reference_workloads import NAMES, Framework, build

_MEMORY_PROBE = """
import sys
framework = __import__(sys.argv[1])  # first, before NumPy: as tinygrad_maas's docs ask (OpenBLAS's idle timeout)
from benchmarks.reference_workloads import Framework, build
step, _ = build(Framework(framework), sys.argv[2])
step()  # warm up: numba compiles (LLVM's memory is not the step's), allocators fill their pools


def status(field):
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(field))


with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # reset the peak resident size (VmHWM) to the current one
before = status("VmRSS:")
for _ in range(3):
    step()
print((status("VmHWM:") - before) / 1024)
"""


def _peak_step_memory_mb(framework, name):
    """MB by which three training steps raise the peak resident memory of a warmed-up fresh process."""
    module = "tinygrad_maas" if framework == "ours" else "torch"
    # Every array above 64 KiB is mapped and unmapped on its own, and freed heap is returned at once, so the
    # resident size follows what is alive (neither framework's allocator pools hide it). tinygrad_maas's own
    # malloc tuning stands aside when these are set.
    environment = dict(os.environ, MALLOC_MMAP_THRESHOLD_="65536", MALLOC_TRIM_THRESHOLD_="0")
    result = subprocess.run(
        [sys.executable, "-c", _MEMORY_PROBE, module, name], capture_output=True, text=True, check=True, env=environment
    )
    return float(result.stdout.strip())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=21)
    parser.add_argument("--contenders", default="ours,torch")
    parser.add_argument("--memory", action="store_true", help="also measure each step's peak memory")
    args = parser.parse_args(argv)
    chosen = set(args.contenders.split(","))
    if {"ours", "torch"} <= chosen:  # sharing the process: both pools wait passively (see the docstring)
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch and numba start their pools
    torch = optional_torch() if "torch" in chosen else None
    print(
        f"one training step, float32; {platform.machine()}, Python {platform.python_version()}, "
        f"{args.rounds} alternating rounds, medians (ms)"
    )
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
        row = (
            f"| {name} | {f'{ours:.2f}' if ours else '-'} | {f'{theirs:.2f}' if theirs else '-'} | "
            f"{f'{ratio:.2f}' if ratio else '-'} |"
        )
        if args.memory:
            row += f" {_peak_step_memory_mb('ours', name):.1f} |" if "ours" in chosen else " - |"
            row += f" {_peak_step_memory_mb('torch', name):.1f} |" if torch is not None else " - |"
        print(row)
    if ratios:
        print(f"geometric mean of ours / PyTorch: {math.exp(sum(map(math.log, ratios)) / len(ratios)):.2f}")


if __name__ == "__main__":
    main()
