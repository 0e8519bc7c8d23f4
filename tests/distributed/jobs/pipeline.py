"""Pipe on 2 ranks (one stage each), both schedules: each stage's gradients equal one process's gradients of
the same layers on the whole batch within 1e-6 (float64). Prints "ok <schedule>" on rank 0."""

import numpy as np

import tinygrad_maas as tm
import tinygrad_maas.distributed as dist
from tinygrad_maas import nn
from tinygrad_maas.distributed.pipeline import Pipe
from tinygrad_maas.nn import functional as F

dist.init_process_group()
rank, size = dist.get_rank(), dist.get_world_size()
rng = np.random.default_rng(1)
X, Y = rng.standard_normal((8, 6)), rng.integers(0, 3, 8)


def model():
    tm.manual_seed(2)  # the same weights on every rank: each keeps its stage of them
    return nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 3)).double()


reference = model()
F.cross_entropy(reference(tm.tensor(X)), tm.tensor(Y)).backward()
expected = [p.grad.numpy() for p in reference.parameters()]

for schedule in ("gpipe", "1f1b"):
    pipe = Pipe(model(), micro_batches=4, schedule=schedule, balance=[3, 2])
    loss = pipe.train_step(
        tm.tensor(X) if rank == 0 else None,
        tm.tensor(Y) if rank == size - 1 else None,
        F.cross_entropy if rank == size - 1 else None,
    )
    mine = [p.grad.numpy() for p in pipe.parameters()]
    ours = expected[:4] if rank == 0 else expected[4:]  # stage 0: two Linear layers (weights and biases)
    assert len(mine) == len(ours)
    for got, want in zip(mine, ours):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)
    if rank == size - 1:
        full = F.cross_entropy(model()(tm.tensor(X)), tm.tensor(Y)).item()
        assert abs(loss - full) < 1e-9, (loss, full)
    dist.barrier()
    if rank == 0:
        print("ok", schedule, flush=True)

big = Pipe(nn.Sequential(nn.Linear(6, 4096), nn.Linear(4096, 3)).double(), micro_batches=4, schedule="1f1b")
big.train_step(  # activations of 2 x 4096 floats: too large to be sent eagerly, so sends must not block
    tm.tensor(X) if rank == 0 else None,
    tm.tensor(Y) if rank == size - 1 else None,
    F.cross_entropy if rank == size - 1 else None,
)
if rank == 0:
    print("ok large activations", flush=True)
dist.destroy_process_group()
