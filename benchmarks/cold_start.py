"""Cold start: how long a fresh process takes to reach its first conv2d forward + backward, with an empty
numba cache (every kernel compiles) and with a warm one (compiled kernels load from disk).

    python -m benchmarks.cold_start
    python -m benchmarks.cold_start --workload lenet      (a reference workload's first training step)

Each measurement is a whole new interpreter (wall time from process start to exit), with NUMBA_CACHE_DIR
pointing at a fresh directory for the cold run and at the same, now filled, directory for the warm runs.
It also times, in the warm process, the first call of each kernel family.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time

from benchmarks.reference_workloads import NAMES

FIRST_STEP = """
import time
start = time.perf_counter()
import numpy as np
import tinygrad_maas as tm
import tinygrad_maas.nn.functional as F
imported = time.perf_counter()
x = tm.randn(8, 1, 28, 28, requires_grad=True)
w = tm.randn(4, 1, 3, 3, requires_grad=True)
F.conv2d(x, w).sum().backward()
conv_done = time.perf_counter()
firsts = {}
for name, run in [
    ("max_pool2d", lambda: F.max_pool2d(x, 2).sum().backward()),
    ("avg_pool2d", lambda: F.avg_pool2d(x, 2).sum().backward()),
    ("cross_entropy", lambda: F.cross_entropy(tm.randn(4, 3, requires_grad=True), tm.tensor([0, 1, 2, 0])).backward()),
    ("embedding", lambda: F.embedding(tm.tensor([1, 2]), tm.randn(5, 3, requires_grad=True)).sum().backward()),
]:
    t = time.perf_counter()
    run()
    firsts[name] = time.perf_counter() - t
print(f"import {imported - start:.2f} s, first conv2d fwd+bwd {conv_done - imported:.2f} s; first calls: "
      + ", ".join(f"{k} {v:.2f} s" for k, v in firsts.items()))
"""


FIRST_TRAINING_STEP = """
import sys, time
start = time.perf_counter()
import tinygrad_maas as tm
from benchmarks.reference_workloads import Framework, build
imported = time.perf_counter()
step, _ = build(Framework(tm), sys.argv[1])
built = time.perf_counter()
step()
print(f"import {imported - start:.2f} s, model and batch {built - imported:.2f} s, "
      f"first training step {time.perf_counter() - built:.2f} s")
"""


def _run(cache_dir, workload=None):
    environment = dict(os.environ, NUMBA_CACHE_DIR=cache_dir, TINYGRAD_MAAS_BACKEND="numba")
    command = (
        [sys.executable, "-c", FIRST_STEP]
        if workload is None
        else [sys.executable, "-c", FIRST_TRAINING_STEP, workload]
    )
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    start = time.perf_counter()
    result = subprocess.run(command, env=environment, cwd=root, capture_output=True, text=True, check=True)
    return time.perf_counter() - start, result.stdout.strip()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", choices=NAMES, help="time this workload's first training step instead")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as cache_dir:
        seconds, detail = _run(cache_dir, args.workload)
        print(f"empty numba cache: {seconds:.2f} s from process start to exit ({detail})")
        for attempt in range(3):
            seconds, detail = _run(cache_dir, args.workload)
            print(f"warm numba cache, run {attempt + 1}: {seconds:.2f} s ({detail})")


if __name__ == "__main__":
    main()
