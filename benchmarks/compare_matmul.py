"""Matmul GFLOP/s: the numba register-tiled kernel vs NumPy's BLAS, and the framework's matmul on tensors
(np.matmul plus autograd bookkeeping) vs np.matmul; square sizes, alternating in one process.

    python -m benchmarks.compare_matmul [--rounds 9]
    python -m benchmarks.compare_matmul --transposed [--rounds 9]

--transposed measures a @ bt.T with few rows and a long shared axis instead (a convolution's weight
gradient): the numba kernel against BLAS, and which one backend.matmul_transposed picks.

    python -m benchmarks.compare_matmul --linear [--rounds 9]

--linear measures a Linear layer's forward product both ways, X W^T and (W X^T)^T made contiguous, on
MiniLM's and the mlp's shapes at 17 to 128 rows, and which one ops/linear.py picks (FEW_ROWS).
"""

import argparse
import statistics

import numpy as np

import tinygrad_maas as tm
from benchmarks.alternate import median_seconds
from tinygrad_maas.kernels import matmul as numba_matmul

SIZES = (16, 64, 128, 256, 512, 1024)
# (M, N, K) of a @ bt.T: the weight gradients of the reference workloads' conv layers (out channels,
# in channels x kernel area, batch x output area), then shapes around the dispatcher's limits.
TRANSPOSED_SHAPES = (
    (6, 75, 50176),
    (16, 150, 6400),
    (32, 9, 43264),
    (64, 288, 7744),
    (6, 9, 1024),
    (6, 150, 50176),
    (32, 75, 50176),
    (64, 150, 16384),
    (128, 9, 50176),
    (256, 576, 1024),
)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--transposed", action="store_true", help="a @ bt.T shapes of conv weight gradients")
    parser.add_argument("--linear", action="store_true", help="X W^T against (W X^T)^T at few rows")
    args = parser.parse_args(argv)
    if args.transposed:
        return _transposed(args.rounds)
    if args.linear:
        return _linear(args.rounds)
    print("| dtype | n | np.matmul GFLOP/s | numba kernel GFLOP/s | kernel / BLAS | tm.matmul / np.matmul time |")
    print("|---|---:|---:|---:|---:|---:|")
    for dtype in (np.float32, np.float64):
        for n in SIZES:
            rng = np.random.default_rng(n)
            a, b = rng.standard_normal((n, n)).astype(dtype), rng.standard_normal((n, n)).astype(dtype)
            ta, tb = tm.from_numpy(a), tm.from_numpy(b)
            times = {"blas": [], "kernel": [], "framework": []}
            runs = {
                "blas": lambda: np.matmul(a, b),
                "kernel": lambda: numba_matmul.matmul(a, b),
                "framework": lambda: tm.matmul(ta, tb),
            }
            for _ in range(3):  # alternate them, several rounds each
                for name, run in runs.items():
                    times[name].append(median_seconds(run, args.rounds))
            blas, kernel, framework = (statistics.median(times[k]) for k in times)
            flops = 2 * n**3
            print(
                f"| {np.dtype(dtype).name} | {n} | {flops / blas / 1e9:.1f} | {flops / kernel / 1e9:.1f} | "
                f"{blas / kernel:.2f} | {framework / blas:.2f} |"
            )


def _transposed(rounds):
    from tinygrad_maas.backend import _kernel_wins

    print("| M x N x K | BLAS ms | numba kernel ms | BLAS / kernel | dispatcher picks |")
    print("|---|---:|---:|---:|---|")
    for m, n, depth in TRANSPOSED_SHAPES:
        rng = np.random.default_rng(m + n)
        a, bt = rng.standard_normal((m, depth)).astype(np.float32), rng.standard_normal((n, depth)).astype(np.float32)
        times = {"blas": [], "kernel": []}
        runs = {"blas": lambda: np.matmul(a, bt.T), "kernel": lambda: numba_matmul.matmul_transposed(a, bt)}
        for _ in range(3):
            for name, run in runs.items():
                times[name].append(median_seconds(run, rounds))
        blas, kernel = (statistics.median(times[k]) for k in times)
        pick = "kernel" if _kernel_wins(m, n, depth, 4) else "BLAS"
        print(f"| {m} x {n} x {depth} | {blas * 1e3:.2f} | {kernel * 1e3:.2f} | {blas / kernel:.2f} | {pick} |")


def _linear(rounds):
    from tinygrad_maas.ops.linear import FEW_ROWS

    print("| rows x in x out | X W^T us | (W X^T)^T us | ratio | ops/linear.py picks |")
    print("|---|---:|---:|---:|---|")
    for rows in (17, 64, 128):
        for inputs, outputs in ((384, 384), (384, 1536), (1536, 384), (784, 256)):
            rng = np.random.default_rng(rows)
            x, w = rng.standard_normal((rows, inputs)), rng.standard_normal((outputs, inputs))
            x, w = x.astype(np.float32), w.astype(np.float32)
            times = {"rows": [], "columns": []}
            runs = {"rows": lambda: x @ w.T, "columns": lambda: np.ascontiguousarray((w @ x.T).T)}
            for _ in range(3):
                for name, run in runs.items():
                    times[name].append(median_seconds(run, rounds * 20))
            by_rows, by_columns = (statistics.median(times[k]) * 1e6 for k in times)
            pick = "(W X^T)^T" if rows <= FEW_ROWS else "X W^T"
            shape = f"{rows} x {inputs} x {outputs}"
            print(f"| {shape} | {by_rows:.0f} | {by_columns:.0f} | {by_rows / by_columns:.2f} | {pick} |")


if __name__ == "__main__":
    main()
