"""Batch-1 inference latency of the convolutional reference workloads: tinygrad_maas vs PyTorch, each
framework alone in its own fresh process.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python -m benchmarks.compare_latency [--rounds 5]

A process builds the workload's model (benchmarks/reference_workloads.py), puts it in eval mode and times
one forward pass of one image without gradient tracking: the median of 300 passes after 20 warm-up passes.
Each round starts one process per framework, one after the other; the table gives each side's median over
rounds and the median of the per-round ratios ours / PyTorch.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys

WORKLOADS = ("lenet", "cnn")

_PROBE = """
import json, statistics, sys, time
import numpy as np
from benchmarks.reference_workloads import Framework, _batch, build
module = __import__(sys.argv[1])
if sys.argv[1] == "torch":
    module.set_num_threads(2)
latencies = {}
for name in sys.argv[2:]:
    _, model = build(Framework(module), name)
    model.eval()
    image = module.tensor(_batch(name, np.random.default_rng(0))[0][:1])
    with module.no_grad():
        for _ in range(20):
            model(image)
        times = []
        for _ in range(300):
            start = time.perf_counter()
            model(image)
            times.append(time.perf_counter() - start)
    latencies[name] = statistics.median(times) * 1e6
print(json.dumps(latencies))
"""


def _latencies(framework):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, framework, *WORKLOADS], cwd=root, capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    try:
        import torch  # noqa: F401  (only whether it is installed: the timing runs in a child process)
    except ImportError:
        sys.exit("compare_latency needs PyTorch: pip install torch")
    rounds = [(_latencies("tinygrad_maas"), _latencies("torch")) for _ in range(args.rounds)]
    print(f"batch-1 forward pass, no grad, eval mode; {args.rounds} rounds, each framework alone; medians (us)")
    print("| workload | tinygrad_maas | PyTorch | ours / PyTorch (median of per-round ratios) |")
    print("|---|---:|---:|---:|")
    for name in WORKLOADS:
        ours = statistics.median(r[0][name] for r in rounds)
        theirs = statistics.median(r[1][name] for r in rounds)
        ratio = statistics.median(r[0][name] / r[1][name] for r in rounds)
        print(f"| {name} | {ours:.0f} | {theirs:.0f} | {ratio:.2f} |")


if __name__ == "__main__":
    main()
