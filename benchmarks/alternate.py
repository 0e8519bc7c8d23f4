"""Running contenders side by side: round-robin in one process, so a noisy neighbour slows all of them
alike, and medians over the rounds."""

import argparse
import statistics
import time


def median_times(contenders, rounds, warmup=1):
    """{name: median seconds} of calling each function in `contenders`, alternating, after `warmup` calls."""
    for run in contenders.values():
        for _ in range(warmup):
            run()  # also compiles numba kernels before timing
    samples = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, run in contenders.items():
            start = time.perf_counter()
            run()
            samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(times) for name, times in samples.items()}


def median_seconds(run, repeats, warmup=1):
    """Median seconds of run() over `repeats` calls after `warmup` calls: median_times of one contender."""
    return median_times({"run": run}, repeats, warmup)["run"]


def optional_torch():
    """PyTorch limited to this machine's 2 threads, or None when it is not installed."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(2)
    return torch


def backend_arguments(doc, argv=None):
    """Parse --rounds and --contenders for a backend comparison: (args, chosen names, torch or None)."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument(
        "--contenders",
        default="numba,numpy,torch",
        help="comma-separated subset of numba,numpy,torch (one per process avoids two OpenMP "
        "thread pools disturbing each other)",
    )
    args = parser.parse_args(argv)
    chosen = set(args.contenders.split(","))
    return args, chosen, optional_torch() if "torch" in chosen else None


def backend_row(label, contenders, chosen, rounds):
    """Time the chosen contenders ("numba", "numpy", "torch") alternately and print one table row:
    | label | numba ms | numpy ms | torch ms | numba / torch |."""
    contenders = {name: run for name, run in contenders.items() if name in chosen}
    medians = {name: seconds * 1e3 for name, seconds in median_times(contenders, rounds).items()}
    cell = {name: f"{medians[name]:.2f}" if name in medians else "-" for name in ("numba", "numpy", "torch")}
    ratio = f"{medians['numba'] / medians['torch']:.2f}" if {"numba", "torch"} <= set(medians) else "-"
    print(f"| {label} | {cell['numba']} | {cell['numpy']} | {cell['torch']} | {ratio} |")
