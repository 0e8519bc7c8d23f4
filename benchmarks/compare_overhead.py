"""Side-by-side per-op overhead: tinygrad_maas vs PyTorch (when installed) vs hand-written NumPy.

    python -m benchmarks.compare_overhead [--rounds 21]

The three run alternately in one process (round-robin), so a noisy neighbour slows all of them alike;
the table gives medians over rounds, microseconds per op, and the ratio to PyTorch.
"""

import argparse
import platform

import numpy as np

import tinygrad_maas as tm
from benchmarks import overhead_workloads as work
from benchmarks.alternate import median_times, optional_torch


def _contenders():
    x_ours = tm.randn(work.SIZE, requires_grad=True)

    def ours():
        x_ours.grad = None
        work.chain(x_ours)

    x_numpy = np.random.default_rng(0).standard_normal(work.SIZE).astype(np.float32)
    contenders = {"tinygrad_maas": ours, "numpy (hand-written backward)": lambda: work.chain_numpy(x_numpy)}
    torch = optional_torch()
    if torch is None:
        return contenders, None
    x_torch = torch.randn(work.SIZE, requires_grad=True)

    def theirs():
        x_torch.grad = None
        work.chain(x_torch)

    contenders["pytorch " + torch.__version__] = theirs
    return contenders, "pytorch " + torch.__version__


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=21)
    args = parser.parse_args(argv)
    contenders, torch_name = _contenders()
    medians = median_times(contenders, args.rounds)
    print(f"chain of {work.CHAIN_OPS} elementwise ops on a ({work.SIZE},) float32 tensor, forward + backward")
    print(
        f"{platform.processor() or platform.machine()}, Python {platform.python_version()}, "
        f"{args.rounds} alternating rounds, medians"
    )
    print(f"| {'contender':<30} | us per op | ratio to PyTorch |")
    print(f"|{'-' * 32}|-----------|------------------|")
    for name, median in medians.items():
        ratio = f"{median / medians[torch_name]:.2f}" if torch_name else "(no torch)"
        print(f"| {name:<30} | {median / work.CHAIN_OPS * 1e6:9.2f} | {ratio:>16} |")


if __name__ == "__main__":
    main()
