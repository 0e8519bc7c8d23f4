"""The per-op overhead chain's fastest run in one fresh process: a number to compare across processes.

    cp benchmarks/fastest_chain.py /tmp/before/benchmarks/     # an older checkout may not have it
    for i in $(seq 12); do
        (cd /tmp/before && python -m benchmarks.fastest_chain); python -m benchmarks.fastest_chain
    done

Prints microseconds per op of the fastest of `--repeats` chains (benchmarks/overhead_workloads.py). On a
shared machine whose processes run in a fast or a slow mode, the fastest runs of many alternating processes
compare like with like where medians mix the modes (docs/benchmarks.md, issue 12).
"""

import argparse
import time

import numpy as np

import tinygrad_maas as tm
from benchmarks import overhead_workloads as work


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=40)
    args = parser.parse_args(argv)
    x = tm.tensor(np.linspace(-1, 1, work.SIZE).astype(np.float32), requires_grad=True)
    work.chain(x)  # warm up
    fastest = float("inf")
    for _ in range(args.repeats):
        x.grad = None
        start = time.perf_counter()
        work.chain(x)
        fastest = min(fastest, time.perf_counter() - start)
    print(f"{fastest / work.CHAIN_OPS * 1e6:.3f}")


if __name__ == "__main__":
    main()
