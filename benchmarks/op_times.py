"""Where a training step of a reference workload spends its time: the wall time of every op's forward and
backward inside real steps (so thread contention between numba's and OpenBLAS's pools shows, which timing
an op alone would hide).

    python -m benchmarks.op_times cnn [--steps 50]

Prints the mean step time over --steps steps and, per op, its time a step and share of it.
"""

import argparse
import collections
import time

import tinygrad_maas as tm
from benchmarks.reference_workloads import NAMES, Framework, build
from tinygrad_maas.autograd.function import Function


def _all_subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_subclasses(sub)


def _timed(cls, method, totals):
    """Replace cls.method (a staticmethod) with one that adds its wall time to totals[(op, method)]."""
    original = cls.__dict__[method].__func__

    def timed(*args, **kwargs):
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            totals[(cls.__name__, method)] += time.perf_counter() - start

    setattr(cls, method, staticmethod(timed))
    return original


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workload", choices=NAMES)
    parser.add_argument("--steps", type=int, default=50)
    args = parser.parse_args(argv)

    step, _ = build(Framework(tm), args.workload)
    for _ in range(5):  # compile and warm up before anything is timed
        step()
    totals = collections.defaultdict(float)
    originals = {}
    for cls in set(_all_subclasses(Function)):
        for method in ("forward", "backward"):
            if isinstance(cls.__dict__.get(method), staticmethod):
                originals[(cls, method)] = _timed(cls, method, totals)
    try:
        start = time.perf_counter()
        for _ in range(args.steps):
            step()
        per_step = (time.perf_counter() - start) / args.steps
    finally:
        for (cls, method), original in originals.items():
            setattr(cls, method, staticmethod(original))
    print(f"{args.workload}: {per_step * 1e3:.2f} ms a step (mean of {args.steps})")
    print("| op | ms a step | share |")
    print("|---|---:|---:|")
    for (op, method), seconds in sorted(totals.items(), key=lambda item: -item[1]):
        if seconds / args.steps >= 1e-5:
            print(f"| {op}.{method} | {seconds / args.steps * 1e3:.3f} | {seconds / args.steps / per_step:.0%} |")
    rest = per_step - sum(totals.values()) / args.steps
    print(f"| (optimizer, zero_grad, Python between ops) | {rest * 1e3:.3f} | {rest / per_step:.0%} |")


if __name__ == "__main__":
    main()
