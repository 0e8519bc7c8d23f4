"""Side-by-side conv2d forward + backward on the `cnn` workload's two layers: tinygrad_maas (numba and
numpy backends) vs PyTorch when installed.

    python -m benchmarks.compare_conv [--rounds 15]
    OMP_WAIT_POLICY=PASSIVE python -m benchmarks.compare_conv      (see below)

The contenders alternate in one process. Two OpenMP thread pools in one process (numba's and PyTorch's)
disturb each other: with the default wait policy, PyTorch's threads keep spinning after its ops and
slow whatever runs next; with OMP_WAIT_POLICY=PASSIVE for the whole process, PyTorch itself is slower
than alone. docs/benchmarks.md reports both, and PyTorch measured alone.
"""

import argparse
import statistics
import time

import tinygrad_maas as tm
import tinygrad_maas.nn.functional as F
from benchmarks import conv_workloads as work


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args(argv)
    try:
        import torch
        torch.set_num_threads(2)
    except ImportError:
        torch = None
    print(f"conv2d forward + backward, float32, medians of {args.rounds} alternating rounds (ms)")
    print("| layer | tinygrad_maas numba | tinygrad_maas numpy | pytorch | numba / pytorch |")
    print("|---|---:|---:|---:|---:|")
    for layer in work.CNN_LAYERS:
        x, w, b = work.arrays(layer)
        ours = [tm.tensor(a, requires_grad=True) for a in (x, w, b)]
        contenders = {
            "numba": lambda: (tm.backend.use("numba"), work.step(F, *ours)),
            "numpy": lambda: (tm.backend.use("numpy"), work.step(F, *ours)),
        }
        if torch is not None:
            theirs = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
            contenders["torch"] = lambda: work.step(torch.nn.functional, *theirs)
        for run in contenders.values():  # warm-up (and numba compilation)
            run()
        times = {name: [] for name in contenders}
        for _ in range(args.rounds):
            for name, run in contenders.items():
                start = time.perf_counter()
                run()
                times[name].append((time.perf_counter() - start) * 1e3)
        medians = {name: statistics.median(samples) for name, samples in times.items()}
        torch_ms = f"{medians['torch']:.2f}" if "torch" in medians else "-"
        ratio = f"{medians['numba'] / medians['torch']:.2f}" if "torch" in medians else "-"
        print(f"| {layer} | {medians['numba']:.2f} | {medians['numpy']:.2f} | {torch_ms} | {ratio} |")
    tm.backend.use("numba")


if __name__ == "__main__":
    main()
