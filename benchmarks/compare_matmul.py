"""Matmul GFLOP/s: the numba register-tiled kernel vs NumPy's BLAS, the dispatcher (backend.matmul, on
arrays) vs np.matmul, and the framework's matmul on tensors (dispatcher plus autograd bookkeeping) vs
np.matmul; square sizes, alternating in one process.

    python -m benchmarks.compare_matmul [--rounds 9]
"""

import argparse
import statistics
import time

import numpy as np

import tinygrad_maas as tm
from tinygrad_maas.kernels import matmul as numba_matmul

SIZES = (16, 64, 128, 256, 512, 1024)


def _median_seconds(run, rounds):
    run()
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        run()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args(argv)
    print("| dtype | n | np.matmul GFLOP/s | numba kernel GFLOP/s | kernel / BLAS | dispatcher / np.matmul time "
          "| tm.matmul / np.matmul time |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for dtype in (np.float32, np.float64):
        for n in SIZES:
            rng = np.random.default_rng(n)
            a, b = rng.standard_normal((n, n)).astype(dtype), rng.standard_normal((n, n)).astype(dtype)
            ta, tb = tm.from_numpy(a), tm.from_numpy(b)
            times = {"blas": [], "kernel": [], "dispatcher": [], "framework": []}
            runs = {"blas": lambda: np.matmul(a, b), "kernel": lambda: numba_matmul.matmul(a, b),
                    "dispatcher": lambda: tm.backend.matmul(a, b), "framework": lambda: tm.matmul(ta, tb)}
            for _ in range(3):  # alternate the three, several rounds each
                for name, run in runs.items():
                    times[name].append(_median_seconds(run, args.rounds))
            blas, kernel, dispatcher, framework = (statistics.median(times[k]) for k in times)
            flops = 2 * n ** 3
            print(f"| {np.dtype(dtype).name} | {n} | {flops / blas / 1e9:.1f} | {flops / kernel / 1e9:.1f} | "
                  f"{blas / kernel:.2f} | {dispatcher / blas:.2f} | {framework / blas:.2f} |")


if __name__ == "__main__":
    main()
