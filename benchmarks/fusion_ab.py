"""A training step with nn.Sequential's fusions (nn/fusion.py) on and off, alternating in one process.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python -m benchmarks.fusion_ab mlp [--rounds 16] [--steps 40]

Each round times `--steps` steps of the workload (benchmarks/reference_workloads.py) fused and as many
unfused, and the order swaps every round: on this kind of machine whichever configuration runs second in
a round tends to be favoured, which a fixed order would read as a difference. Prints each round's medians
and the median of the per-round ratios fused / unfused (below 1: fusing is faster).
"""

import argparse
import statistics

import tinygrad_maas as tm  # first, before NumPy: as its docs ask (OpenBLAS's idle timeout)
from benchmarks.alternate import median_seconds
from benchmarks.reference_workloads import NAMES, Framework, build


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("workload", choices=NAMES)
    parser.add_argument("--rounds", type=int, default=16)
    parser.add_argument("--steps", type=int, default=40)
    args = parser.parse_args(argv)
    step, _ = build(Framework(tm), args.workload)
    previous = tm.nn.fusion.enabled
    ratios = []
    try:
        for enabled in (True, False):  # warm-up: compiled kernels, allocator
            tm.nn.fusion.enabled = enabled
            median_seconds(step, 5, warmup=0)
        for index in range(args.rounds):
            times = {}
            for enabled in (True, False) if index % 2 == 0 else (False, True):
                tm.nn.fusion.enabled = enabled
                times[enabled] = median_seconds(step, args.steps, warmup=0) * 1e6
            ratios.append(times[True] / times[False])
            print(f"round {index + 1}: fused {times[True]:.0f} us, unfused {times[False]:.0f} us, {ratios[-1]:.3f}")
    finally:
        tm.nn.fusion.enabled = previous
    ratio = statistics.median(ratios)
    print(f"{args.workload}: fused / unfused, median of {args.rounds} per-round ratios: {ratio:.3f}")


if __name__ == "__main__":
    main()
