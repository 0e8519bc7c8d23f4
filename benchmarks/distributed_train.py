"""Data-parallel training throughput: the mnist_cnn recipe's model (or --model wide_mlp, whose gradients
fill several buckets), one rank with 2 threads against 2 ranks
with 1 thread each (this machine has 2 cores, so this measures the overhead of going parallel), with
DistributedDataParallel's buckets overlapping backward against one all-reduce after backward, and the same
against PyTorch (one process; DDP with the gloo backend) when torch is installed.

    python -m benchmarks.distributed_train [--rounds 3] [--steps 30] [--batch 64] [--model wide_mlp]
                                           [--bucket-mb 25]

Each configuration runs alone (its own processes, one after the other), several rounds; the table shows
medians and the ratio to one rank per round. "communication" is the time of one all-reduce of every
gradient (the model's size) measured inside the 2-rank job, as a share of its step time. The data are
random MNIST-shaped images (the arithmetic, not the accuracy, is measured).
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def _mpiexec():
    beside = Path(sys.executable).parent / "mpiexec"
    return str(beside) if beside.exists() else "mpiexec"


def _threads(n):
    return {"OMP_NUM_THREADS": str(n), "NUMBA_NUM_THREADS": str(n), "OPENBLAS_NUM_THREADS": str(n)}


def _run(command, environment):
    result = subprocess.run(
        command, capture_output=True, text=True, env=dict(os.environ, **environment), cwd=ROOT, timeout=900
    )
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--batch", type=int, default=64, help="the global batch (split over the ranks)")
    parser.add_argument(
        "--model",
        choices=["mnist_cnn", "wide_mlp"],
        default="mnist_cnn",
        help="wide_mlp: 784-2048-2048-2048-10, 42 MB of gradients, several buckets (for overlap)",
    )
    parser.add_argument("--bucket-mb", type=float, default=25.0, help="DistributedDataParallel's bucket_cap_mb")
    parser.add_argument("--worker", choices=["ours", "torch"], help=argparse.SUPPRESS)
    parser.add_argument("--overlap", choices=["buckets", "after"], default="buckets", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker == "ours":
        return _ours(args)
    if args.worker == "torch":
        return _torch(args)
    me = [sys.executable, "-m", "benchmarks.distributed_train", "--steps", str(args.steps), "--batch", str(args.batch)]
    me += ["--model", args.model, "--bucket-mb", str(args.bucket_mb)]
    configurations = {
        "ours, 1 rank x 2 threads": (me + ["--worker", "ours"], _threads(2)),
        "ours, 2 ranks x 1 thread, DDP buckets": ([_mpiexec(), "-n", "2"] + me + ["--worker", "ours"], _threads(1)),
        "ours, 2 ranks x 1 thread, one all-reduce after backward": (
            [_mpiexec(), "-n", "2"] + me + ["--worker", "ours", "--overlap", "after"],
            _threads(1),
        ),
    }
    try:
        import torch  # noqa: F401

        configurations["PyTorch, 1 process x 2 threads"] = (me + ["--worker", "torch"], {**_threads(2), "WORLD": "1"})
        configurations["PyTorch, 2 ranks x 1 thread, DDP gloo"] = (
            [_mpiexec(), "-n", "2"] + me + ["--worker", "torch"],
            {**_threads(1), "WORLD": "2"},
        )
    except ImportError:
        print("(PyTorch is not installed: no PyTorch rows)")
    results = {name: [] for name in configurations}
    for _ in range(args.rounds):
        for name, (command, environment) in configurations.items():
            results[name].append(_run(command, environment))
    print(
        f"{args.model} model, global batch {args.batch}, buckets of {args.bucket_mb:g} MB, {args.steps} timed "
        f"steps, {args.rounds} rounds (medians)"
    )
    print("| configuration | samples/s | / 1 rank, per round | communication share |")
    print("|---|---:|---|---:|")
    for name, rounds in results.items():
        base = "ours, 1 rank x 2 threads" if name.startswith("ours") else "PyTorch, 1 process x 2 threads"
        ratios = [r["samples_per_s"] / b["samples_per_s"] for r, b in zip(rounds, results[base])]
        share = [r["communication_share"] for r in rounds if r.get("communication_share") is not None]
        print(
            f"| {name} | {np.median([r['samples_per_s'] for r in rounds]):.0f} | "
            f"{', '.join(f'{x:.2f}' for x in ratios)} (median {np.median(ratios):.2f}) | "
            f"{f'{np.median(share):.1%}' if share else '-'} |"
        )


def _model(kind):
    from tinygrad_maas import nn

    if kind == "wide_mlp":
        return nn.Sequential(
            nn.Flatten(), nn.Linear(784, 2048), nn.ReLU(), nn.Linear(2048, 2048), nn.ReLU(),
            nn.Linear(2048, 2048), nn.ReLU(), nn.Linear(2048, 10),
        )  # fmt: skip
    return nn.Sequential(
        nn.Conv2d(1, 16, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(16, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 5 * 5, 64), nn.ReLU(), nn.Linear(64, 10),
    )  # fmt: skip


def _ours(args):
    import tinygrad_maas as tm
    from tinygrad_maas.nn import functional as F

    distributed = "PMI_RANK" in os.environ or "OMPI_COMM_WORLD_RANK" in os.environ
    rank, world = 0, 1
    if distributed:
        import tinygrad_maas.distributed as dist

        dist.init_process_group()
        rank, world = dist.get_rank(), dist.get_world_size()
    tm.manual_seed(0)
    model = _model(args.model)
    if distributed and args.overlap == "buckets":
        model = tm.nn.parallel.DistributedDataParallel(model, bucket_cap_mb=args.bucket_mb)
    optimizer = tm.optim.Adam(model.parameters(), lr=1e-3)
    rng = np.random.default_rng(rank)
    local = args.batch // world
    x = tm.tensor(rng.standard_normal((local, 1, 28, 28)).astype(np.float32))
    y = tm.tensor(rng.integers(0, 10, local))
    parameters = list(model.parameters())

    def step():
        optimizer.zero_grad()
        F.cross_entropy(model(x), y).backward()
        if distributed and args.overlap == "after":  # everything in one message once backward is done
            flat = tm.tensor(np.concatenate([p.grad.array.reshape(-1) for p in parameters]))
            dist.all_reduce(flat, op=dist.ReduceOp.AVG)
            offset = 0
            for p in parameters:
                p.grad.array[...] = flat.array[offset : offset + p.grad.array.size].reshape(p.grad.shape)
                offset += p.grad.array.size
        optimizer.step()

    for _ in range(5):
        step()
    if distributed:
        dist.barrier()
    start = time.perf_counter()
    for _ in range(args.steps):
        step()
    if distributed:
        dist.barrier()
    seconds = (time.perf_counter() - start) / args.steps
    share = None
    if distributed:  # one all-reduce of every gradient, alone: the communication a step needs
        flat = tm.tensor(np.zeros(sum(p.array.size for p in parameters), np.float32))
        dist.barrier()
        begin = time.perf_counter()
        for _ in range(20):
            dist.all_reduce(flat, op=dist.ReduceOp.AVG)
        share = (time.perf_counter() - begin) / 20 / seconds
    if rank == 0:
        print(json.dumps({"samples_per_s": args.batch / seconds, "communication_share": share}))


def _torch(args):
    import torch
    import torch.distributed as tdist

    world = int(os.environ.get("WORLD", "1"))
    rank = int(os.environ.get("PMI_RANK", "0"))
    torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
    if world > 1:
        os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
        os.environ.setdefault("MASTER_PORT", "29517")
        tdist.init_process_group("gloo", rank=rank, world_size=world)
    torch.manual_seed(0)
    tnn = torch.nn
    if args.model == "wide_mlp":
        model = tnn.Sequential(
            tnn.Flatten(), tnn.Linear(784, 2048), tnn.ReLU(), tnn.Linear(2048, 2048), tnn.ReLU(),
            tnn.Linear(2048, 2048), tnn.ReLU(), tnn.Linear(2048, 10),
        )  # fmt: skip
    else:
        model = tnn.Sequential(
            tnn.Conv2d(1, 16, 3), tnn.ReLU(), tnn.MaxPool2d(2), tnn.Conv2d(16, 32, 3), tnn.ReLU(), tnn.MaxPool2d(2),
            tnn.Flatten(), tnn.Linear(32 * 5 * 5, 64), tnn.ReLU(), tnn.Linear(64, 10),
        )  # fmt: skip
    if world > 1:
        model = tnn.parallel.DistributedDataParallel(model, bucket_cap_mb=args.bucket_mb)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    rng = np.random.default_rng(rank)
    local = args.batch // world
    x = torch.from_numpy(rng.standard_normal((local, 1, 28, 28)).astype(np.float32))
    y = torch.from_numpy(rng.integers(0, 10, local))

    def step():
        optimizer.zero_grad()
        tnn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()

    for _ in range(5):
        step()
    if world > 1:
        tdist.barrier()
    start = time.perf_counter()
    for _ in range(args.steps):
        step()
    if world > 1:
        tdist.barrier()
    seconds = (time.perf_counter() - start) / args.steps
    if rank == 0:
        print(json.dumps({"samples_per_s": args.batch / seconds, "communication_share": None}))
    if world > 1:
        tdist.destroy_process_group()


if __name__ == "__main__":
    main()
