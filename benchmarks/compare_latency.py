"""tinygrad_maas vs PyTorch with each framework alone in a fresh process every round: batch-1 inference
latency of the convolutional workloads, or (--training) the training step of all four.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python -m benchmarks.compare_latency [--rounds 5]
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python -m benchmarks.compare_latency --training [--rounds 5]

Latency: a process builds the workload's model (benchmarks/reference_workloads.py), puts it in eval mode
and times one forward pass of one image without gradient tracking, the median of 300 passes after 20
warm-up passes. Training: the median of 30 training steps after 3 warm-up steps. Each round starts one
process per framework, one after the other, and the table gives each side's median over rounds and the
median of the per-round ratios ours / PyTorch. A shared machine that lands a whole process in a fast or a
slow mode moves both sides of a round alike, where `benchmarks.compare --contenders` (one process per
side for every round) can catch one side in each mode.
"""

import argparse
import json
import math
import os
import statistics
import subprocess
import sys

from benchmarks.reference_workloads import NAMES

LATENCY_WORKLOADS = ("lenet", "cnn")

_PROBE = """
import json, statistics, sys, time
module = __import__(sys.argv[1])  # first, before NumPy: as tinygrad_maas's docs ask (OpenBLAS's idle timeout)
import numpy as np
from benchmarks.reference_workloads import Framework, _batch, build
if sys.argv[1] == "torch":
    module.set_num_threads(2)
training = sys.argv[2] == "training"


def median_us(call, warmup, repeats):
    for _ in range(warmup):
        call()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e6


results = {}
for name in sys.argv[3:]:
    step, model = build(Framework(module), name)
    if training:
        results[name] = median_us(step, 3, 30)
        continue
    model.eval()
    image = module.tensor(_batch(name, np.random.default_rng(0))[0][:1])
    with module.no_grad():
        results[name] = median_us(lambda: model(image), 20, 300)
print(json.dumps(results))
"""


def _times(framework, mode, workloads):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    command = [sys.executable, "-c", _PROBE, framework, mode, *workloads]
    result = subprocess.run(command, cwd=root, capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--training", action="store_true", help="time training steps of all four workloads")
    args = parser.parse_args(argv)
    try:
        import torch  # noqa: F401  (only whether it is installed: the timing runs in a child process)
    except ImportError:
        sys.exit("compare_latency needs PyTorch: pip install torch")
    mode, workloads = ("training", NAMES) if args.training else ("latency", LATENCY_WORKLOADS)
    rounds = [(_times("tinygrad_maas", mode, workloads), _times("torch", mode, workloads)) for _ in range(args.rounds)]
    what = "training step" if args.training else "batch-1 forward pass, no grad, eval mode"
    print(f"{what}; {args.rounds} rounds, each framework alone in a fresh process; medians (us)")
    print("| workload | tinygrad_maas | PyTorch | ours / PyTorch (median of per-round ratios) |")
    print("|---|---:|---:|---:|")
    ratios = []
    for name in workloads:
        ours = statistics.median(r[0][name] for r in rounds)
        theirs = statistics.median(r[1][name] for r in rounds)
        ratios.append(statistics.median(r[0][name] / r[1][name] for r in rounds))
        print(f"| {name} | {ours:.0f} | {theirs:.0f} | {ratios[-1]:.2f} |")
    print(f"geometric mean of the ratios: {math.exp(sum(map(math.log, ratios)) / len(ratios)):.2f}")


if __name__ == "__main__":
    main()
