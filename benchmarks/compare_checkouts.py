"""Before and after a change: per-op overhead and the four reference workloads, timed in two checkouts.

    git worktree add /tmp/before <commit>
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python -m benchmarks.compare_checkouts /tmp/before . [--rounds 7]

Each round starts one fresh process per checkout, one after the other (so each runs alone, and a noisy
neighbour that comes and goes touches both sides of a round alike); a process times the overhead chain of
benchmarks/overhead_workloads.py and a training step of each workload, medians over its repetitions. The
table gives each side's median over rounds, the median of the per-round ratios after / before, and each
side's fastest process with their ratio. On a shared machine whose processes land in a fast or a slow mode
(the same checkout measured 7 and 13 us per op from one process to the next) a round can pair a fast
process with a slow one, so its ratio says little; the fastest processes of each side compare like with
like, and agree with the median ratio when the machine is quiet.

A checkout imports `tinygrad_maas.kernels` from wherever the project is installed unless its own kernels/
is linked into it: `ln -s ../kernels /tmp/before/tinygrad_maas/kernels`. The probe refuses to time a
checkout whose package or kernels come from elsewhere.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys

_PROBE = """
import json, os, statistics, sys, time
import tinygrad_maas as tm
import tinygrad_maas.kernels as kernels

here = os.path.realpath(os.getcwd())
for module in (tm, kernels):
    if not os.path.realpath(module.__file__).startswith(here + os.sep):
        sys.exit(f"{module.__name__} is imported from {module.__file__}, not from the checkout {here}")

from benchmarks import overhead_workloads as work
from benchmarks.reference_workloads import NAMES, Framework, build


def median_seconds(run, repeats):
    run()  # warm up: numba kernels load from their cache or compile
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


x = tm.randn(work.SIZE, requires_grad=True)


def chain():
    x.grad = None
    work.chain(x)


seconds = {"overhead_us_per_op": median_seconds(chain, 15) / work.CHAIN_OPS * 1e6}
for name in NAMES:
    step, _ = build(Framework(tm), name)
    seconds[name + "_ms"] = median_seconds(step, 15) * 1e3
print(json.dumps(seconds))
"""


def _measure(checkout):
    """One fresh process in `checkout`: {measure: value} (µs per op, ms per step)."""
    result = subprocess.run(
        [sys.executable, "-c", _PROBE], cwd=checkout, capture_output=True, text=True, env=dict(os.environ)
    )
    if result.returncode != 0:
        sys.exit(f"probe failed in {checkout}:\n{result.stderr.strip()}")
    return json.loads(result.stdout)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", help="checkout timed first in each round")
    parser.add_argument("after", help="checkout compared with it")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args(argv)
    rounds = [(_measure(args.before), _measure(args.after)) for _ in range(args.rounds)]
    print(
        f"{platform.processor() or platform.machine()}, Python {platform.python_version()}, "
        f"{args.rounds} rounds, each checkout alone in a fresh process; medians"
    )
    print(
        "| measure | before | after | after / before (median of per-round ratios) | ratio range "
        "| fastest before | fastest after | ratio of fastest |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for measure in rounds[0][0]:
        before = statistics.median(b[measure] for b, _ in rounds)
        after = statistics.median(a[measure] for _, a in rounds)
        ratios = [a[measure] / b[measure] for b, a in rounds]
        spread = f"{min(ratios):.2f}-{max(ratios):.2f}"
        fastest_before, fastest_after = min(b[measure] for b, _ in rounds), min(a[measure] for _, a in rounds)
        print(
            f"| {measure} | {before:.2f} | {after:.2f} | {statistics.median(ratios):.3f} | {spread} "
            f"| {fastest_before:.2f} | {fastest_after:.2f} | {fastest_after / fastest_before:.3f} |"
        )


if __name__ == "__main__":
    main()
