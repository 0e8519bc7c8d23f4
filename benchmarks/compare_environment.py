"""One environment variable on and off: a training step of each reference workload, in fresh processes.

    python -m benchmarks.compare_environment OPENBLAS_THREAD_TIMEOUT=4 [--rounds 7]

Thread-pool settings (OPENBLAS_THREAD_TIMEOUT, NUMBA_THREADING_LAYER, ...) are read once,
when a library loads, so each side needs its own process. Each round runs one process without the variable
and one with it, one after the other; a process times 20 steps of each workload after 3 warm-up steps
(medians). The table gives each side's median over rounds and the median of the per-round ratios.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys

from benchmarks.reference_workloads import NAMES

_PROBE = """
import json, statistics, time
import tinygrad_maas as tm
from benchmarks.reference_workloads import NAMES, Framework, build
medians = {}
for name in NAMES:
    step, _ = build(Framework(tm), name)
    for _ in range(3):
        step()
    times = []
    for _ in range(20):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    medians[name] = statistics.median(times) * 1e3
print(json.dumps(medians))
"""


def _step_times(extra):
    environment = {key: value for key, value in os.environ.items() if key != extra[0]}
    if extra[1] is not None:
        environment[extra[0]] = extra[1]
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    result = subprocess.run(
        [sys.executable, "-c", _PROBE], env=environment, cwd=root, capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("setting", help="NAME=VALUE")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args(argv)
    name, separator, value = args.setting.partition("=")
    if not separator or not name:
        parser.error(f"setting must be NAME=VALUE, got {args.setting!r}")
    without, with_it = [], []
    for _ in range(args.rounds):
        without.append(_step_times((name, None)))
        with_it.append(_step_times((name, value)))
    print(f"training step (ms), {args.rounds} rounds, each side in its own fresh process; medians")
    print(f"| workload | without | {args.setting} | ratio (median of per-round ratios) |")
    print("|---|---:|---:|---:|")
    for workload in NAMES:
        before = statistics.median(times[workload] for times in without)
        after = statistics.median(times[workload] for times in with_it)
        ratio = statistics.median(b[workload] / a[workload] for a, b in zip(without, with_it))
        print(f"| {workload} | {before:.2f} | {after:.2f} | {ratio:.3f} |")


if __name__ == "__main__":
    main()
