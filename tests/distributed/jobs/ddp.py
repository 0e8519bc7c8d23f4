"""DistributedDataParallel on 2 ranks equals one process on the same global batch (float64, within 1e-6):
plain, with small buckets, with no_sync accumulation; and its errors. Prints "ok <case>" on rank 0."""

import os
import sys

import numpy as np

import tinygrad_maas as tm
import tinygrad_maas.distributed as dist
from tinygrad_maas import nn
from tinygrad_maas.nn import functional as F

dist.init_process_group()
rank, size = dist.get_rank(), dist.get_world_size()
rng = np.random.default_rng(0)
X = rng.standard_normal((8, 1, 8, 8))  # the global batch, the same on every rank
Y = rng.integers(0, 5, 8)
STEPS = 4


def cnn(seed, classes=5):
    tm.manual_seed(seed + rank)  # different on each rank: DDP must start them equal (rank 0's)
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(36, 16),
        nn.Tanh(),
        nn.Linear(16, classes),
    )
    return model.double()


def reference(seed, steps=STEPS):
    """One process, the whole batch: the parameters after `steps` SGD steps from rank 0's start."""
    tm.manual_seed(seed)
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(36, 16), nn.Tanh(), nn.Linear(16, 5)
    ).double()
    optimizer = tm.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for _ in range(steps):
        optimizer.zero_grad()
        F.cross_entropy(model(tm.tensor(X)), tm.tensor(Y)).backward()
        optimizer.step()
    return [p.detach().numpy() for p in model.parameters()]


def check(model, expected, case):
    for ours, theirs in zip(model.module.parameters(), expected):
        np.testing.assert_allclose(ours.detach().numpy(), theirs, rtol=0, atol=1e-6)
    mine = np.concatenate([p.detach().numpy().ravel() for p in model.module.parameters()])
    everyone = [tm.zeros(mine.size, dtype=tm.float64) for _ in range(size)]
    dist.all_gather(everyone, tm.tensor(mine))
    assert all(np.array_equal(e.numpy(), mine) for e in everyone)  # every rank holds the same weights
    if rank == 0:
        print("ok", case, flush=True)


shard = slice(rank * 8 // size, (rank + 1) * 8 // size)
for case, bucket_mb in (("ddp", None), ("ddp small buckets", 1e-4)):
    model = nn.parallel.DistributedDataParallel(cnn(seed=3), bucket_cap_mb=bucket_mb)
    optimizer = tm.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for _ in range(STEPS):
        optimizer.zero_grad()
        F.cross_entropy(model(tm.tensor(X[shard])), tm.tensor(Y[shard])).backward()
        optimizer.step()
    if case == "ddp small buckets":
        assert len(model._buckets) == len(list(model.parameters()))  # one parameter per bucket
    check(model, reference(seed=3), case)

model = nn.parallel.DistributedDataParallel(cnn(seed=3))
optimizer = tm.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
half = (shard.stop - shard.start) // 2
micro = [slice(shard.start, shard.start + half), slice(shard.start + half, shard.stop)]
for _ in range(STEPS):
    optimizer.zero_grad()
    with model.no_sync():  # the first micro-batch: local accumulation only
        (F.cross_entropy(model(tm.tensor(X[micro[0]])), tm.tensor(Y[micro[0]])) / 2).backward()
    (F.cross_entropy(model(tm.tensor(X[micro[1]])), tm.tensor(Y[micro[1]])) / 2).backward()
    optimizer.step()
check(model, reference(seed=3), "no_sync accumulation")

# A checkpoint: rank 0 writes it (atomically, as tm.save always does), every rank resumes from it.
checkpoint = os.path.join(sys.argv[1], "checkpoint.safetensors")
if rank == 0:
    tm.save({"model": model.module.state_dict(), "optimizer": optimizer.state_dict()}, checkpoint)
dist.barrier()
state = tm.load(checkpoint)
resumed = nn.parallel.DistributedDataParallel(cnn(seed=9))  # other weights, replaced by the checkpoint's
resumed.module.load_state_dict(state["model"])
resumed_optimizer = tm.optim.SGD(resumed.parameters(), lr=0.1, momentum=0.9)
resumed_optimizer.load_state_dict(state["optimizer"])
for ddp_model, ddp_optimizer in ((model, optimizer), (resumed, resumed_optimizer)):
    ddp_optimizer.zero_grad()
    F.cross_entropy(ddp_model(tm.tensor(X[shard])), tm.tensor(Y[shard])).backward()
    ddp_optimizer.step()
check(resumed, [p.detach().numpy() for p in model.module.parameters()], "resumed from rank 0's checkpoint")

try:
    nn.parallel.DistributedDataParallel(cnn(seed=3, classes=5 + rank))
except ValueError as error:
    assert "parameter '6.weight' has shape" in str(error), error
    if rank == 0:
        print("ok different shapes refused", flush=True)


class WithUnused(nn.Module):
    def __init__(self):
        super().__init__()
        self.used, self.unused = nn.Linear(3, 2), nn.Linear(3, 2)

    def forward(self, x):
        return self.used(x)


model = nn.parallel.DistributedDataParallel(WithUnused())
model(tm.ones(2, 3)).sum().backward()
try:
    model(tm.ones(2, 3))
except RuntimeError as error:
    assert "without gradients for ['unused.weight', 'unused.bias']" in str(error), error
    if rank == 0:
        print("ok unused parameters named", flush=True)
dist.destroy_process_group()
