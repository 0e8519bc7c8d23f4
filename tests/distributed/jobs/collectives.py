"""Every collective on 2+ ranks, each checked against the NumPy result every rank can compute for itself;
prints "ok <name>" on rank 0 for each."""

import numpy as np

import tinygrad_maas as tm
import tinygrad_maas.distributed as dist

dist.init_process_group()
rank, size = dist.get_rank(), dist.get_world_size()


def values(r, dtype=np.float64):
    """Rank r's data, known to every rank."""
    return (np.arange(6, dtype=dtype).reshape(2, 3) + 10 * r) * (-1) ** r


def report(name):
    if rank == 0:
        print("ok", name, flush=True)


everyone = np.stack([values(r) for r in range(size)])
for op, expected in (
    (dist.ReduceOp.SUM, everyone.sum(0)),
    (dist.ReduceOp.AVG, everyone.mean(0)),
    (dist.ReduceOp.MAX, everyone.max(0)),
    (dist.ReduceOp.MIN, everyone.min(0)),
    (dist.ReduceOp.PRODUCT, everyone.prod(0)),
):
    t = tm.tensor(values(rank))
    dist.all_reduce(t, op=op)
    np.testing.assert_allclose(t.numpy(), expected)
    report(f"all_reduce {op}")

t = tm.tensor(values(rank, np.float32))
work = dist.all_reduce(t, async_op=True)
work.wait()
assert work.is_completed()
np.testing.assert_allclose(t.numpy(), everyone.sum(0).astype(np.float32))
report("all_reduce async")

t = tm.tensor(values(rank, np.int64))
dist.all_reduce(t)
np.testing.assert_array_equal(t.numpy(), everyone.sum(0).astype(np.int64))
report("all_reduce int64")

t = tm.tensor(values(rank))[:, ::2]  # a strided view: staged and copied back
dist.all_reduce(t)
np.testing.assert_allclose(t.numpy(), everyone.sum(0)[:, ::2])
report("all_reduce non-contiguous")

t = tm.tensor(values(rank))
dist.broadcast(t, src=size - 1)
np.testing.assert_allclose(t.numpy(), values(size - 1))
report("broadcast")

gathered = [tm.zeros(2, 3, dtype=tm.float64) for _ in range(size)]
dist.all_gather(gathered, tm.tensor(values(rank)))
for r in range(size):
    np.testing.assert_allclose(gathered[r].numpy(), values(r))
report("all_gather")

out = tm.zeros(2, 3, dtype=tm.float64)
parts = [tm.tensor(values(rank) + 100 * r) for r in range(size)]  # part r goes to rank r
dist.reduce_scatter(out, parts, op=dist.ReduceOp.SUM)
np.testing.assert_allclose(out.numpy(), sum(values(r) + 100 * rank for r in range(size)))
report("reduce_scatter")

if rank == 0:
    dist.send(tm.tensor(values(0)), dst=1, tag=7)
    back = tm.zeros(2, 3, dtype=tm.float64)
    assert dist.recv(back, tag=8) == 1  # from any rank: the sender's rank comes back
    np.testing.assert_allclose(back.numpy(), values(0) * 2)
elif rank == 1:
    got = tm.zeros(2, 3, dtype=tm.float64)
    dist.recv(got, src=0, tag=7)
    dist.isend(got * 2, dst=0, tag=8).wait()
report("send and recv")

dist.barrier()
report("barrier")
dist.destroy_process_group()
