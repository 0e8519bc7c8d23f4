"""DistributedDataParallel: every rank trains the same model on its own share of the batch, and the
gradients are averaged across ranks during backward, so every rank takes the same optimizer step.

    model = tm.nn.parallel.DistributedDataParallel(model)     # after init_process_group()
    loss_fn(model(x_shard), y_shard).backward()                # gradients are the global batch's mean
    optimizer.step()

On wrap, rank 0's parameters and buffers are broadcast (every rank starts equal) after checking that every
rank holds the same parameter shapes. The parameters are grouped into buckets of about bucket_cap_mb
(PyTorch's 25 MB), in reverse order of registration: backward produces the last layers' gradients first.
A hook on each parameter (register_post_accumulate_grad_hook) notes when its .grad is complete; when a
bucket's last gradient arrives, the bucket is flattened into one array and its all-reduce (AVG) starts
without waiting, while backward goes on computing earlier layers: communication overlaps computation. When
every bucket has started, the averages are awaited and written back into each .grad.

    with model.no_sync():          # gradient accumulation: these backwards only add into .grad locally;
        loss(micro_batch_1).backward()
    loss(micro_batch_2).backward() # ... this one averages the accumulated .grad across ranks

A parameter that gets no gradient in a backward (unused in forward) would leave its bucket waiting; the next
forward raises an error naming it, as PyTorch's does (find_unused_parameters=True is not supported here).
In training mode the buffers (BatchNorm's statistics) are broadcast from rank 0 at every forward
(broadcast_buffers=True), as PyTorch's.
"""

import contextlib

import numpy as np

from ..nn.module import Module
from ..tensor import Tensor, make_tensor
from . import collectives
from .process_group import _require, get_rank, get_world_size

DEFAULT_BUCKET_MB = 25


class DistributedDataParallel(Module):
    def __init__(
        self,
        module,
        device_ids=None,
        output_device=None,
        dim=0,
        broadcast_buffers=True,
        process_group=None,
        bucket_cap_mb=None,
        find_unused_parameters=False,
        gradient_as_bucket_view=False,
        static_graph=False,
    ):
        super().__init__()
        _require()
        if process_group is not None:
            raise ValueError("DistributedDataParallel: only the default process group exists here")
        if find_unused_parameters:
            raise NotImplementedError(
                "DistributedDataParallel(find_unused_parameters=True) is not supported: every parameter must "
                "get a gradient in each backward (freeze unused ones with requires_grad_(False))"
            )
        self.module = module
        self.broadcast_buffers = broadcast_buffers
        self.bucket_cap_mb = DEFAULT_BUCKET_MB if bucket_cap_mb is None else float(bucket_cap_mb)
        self._parameters_in_order = [p for p in module.parameters() if p.requires_grad]
        _check_same_shapes(module)
        for tensor in list(module.parameters()) + [b for b in module.buffers() if b is not None]:
            collectives.broadcast(tensor, src=0)
        self._buckets = _buckets(self._parameters_in_order, self.bucket_cap_mb * 2**20)
        self._bucket_of = {id(p): i for i, bucket in enumerate(self._buckets) for p in bucket}
        self._sync = True
        self._reset()
        self._handles = [p.register_post_accumulate_grad_hook(self._gradient_ready) for p in self._parameters_in_order]

    # ------------------------------------------------------------------ forward
    def forward(self, *inputs, **kwargs):
        if self._pending:
            missing = [name for name, p in self.module.named_parameters() if id(p) in self._pending]
            raise RuntimeError(
                "DistributedDataParallel: the previous backward finished without gradients for "
                f"{missing[:5]}{' ...' if len(missing) > 5 else ''}: every parameter must take part in the loss "
                "(or be frozen with requires_grad_(False)), or the ranks would step with unequal gradients"
            )
        if self.training and self.broadcast_buffers:
            for buffer in self.module.buffers():
                if buffer is not None:
                    collectives.broadcast(buffer, src=0)
        return self.module(*inputs, **kwargs)

    @contextlib.contextmanager
    def no_sync(self):
        """Backwards inside only accumulate into .grad on this rank; the first one after averages the sum."""
        previous, self._sync = self._sync, False
        try:
            yield
        finally:
            self._sync = previous

    # ------------------------------------------------------------------ backward
    def _reset(self):
        self._pending = set()  # parameters whose gradient this backward has not produced yet
        self._ready = [0] * len(self._buckets)
        self._works = []

    def _gradient_ready(self, parameter):
        if not self._sync:
            return
        if not self._pending and not self._works:
            self._pending = {id(p) for p in self._parameters_in_order}  # a new backward starts
        self._pending.discard(id(parameter))
        index = self._bucket_of[id(parameter)]
        self._ready[index] += 1
        for work, _, _ in self._works:
            work.is_completed()  # let MPI move the earlier buckets along while backward runs
        if self._ready[index] == len(self._buckets[index]):
            self._start_bucket(index)
        if not self._pending:
            self._finish()

    def _start_bucket(self, index):
        bucket = self._buckets[index]
        flat = np.concatenate([p.grad.array.reshape(-1) for p in bucket])
        flat_tensor = make_tensor(flat, None)
        work = collectives.all_reduce(flat_tensor, op=collectives.ReduceOp.AVG, async_op=True)
        self._works.append((work, flat, bucket))

    def _finish(self):
        """Every bucket has started: wait for the averages and write them into each .grad."""
        works = self._works
        self._reset()
        for work, flat, bucket in works:
            work.wait()
            offset = 0
            for parameter in bucket:
                size = parameter.grad.array.size
                parameter.grad.array[...] = flat[offset : offset + size].reshape(parameter.grad.array.shape)
                offset += size


def _buckets(parameters, capacity_bytes):
    """Parameters in reverse order, cut into buckets of at most capacity bytes (each at least one)."""
    buckets, current, size = [], [], 0
    for parameter in reversed(parameters):
        nbytes = parameter.array.nbytes
        if current and size + nbytes > capacity_bytes:
            buckets.append(current)
            current, size = [], 0
        current.append(parameter)
        size += nbytes
    if current:
        buckets.append(current)
    return buckets


def _check_same_shapes(module):
    """Every rank must hold the same parameters: compare each rank's (count, then shapes) with a MIN and a
    MAX all-reduce (no pickled objects travel), and name the first parameter that differs."""
    named = list(module.named_parameters())
    counts = Tensor(np.array([len(named), -len(named)], dtype=np.int64))
    collectives.all_reduce(counts, op=collectives.ReduceOp.MAX)
    if counts.array[0] != -counts.array[1]:
        raise ValueError(
            f"DistributedDataParallel: rank {get_rank()} has {len(named)} parameters, but the ranks disagree "
            f"(from {-counts.array[1]} to {counts.array[0]}): every rank must build the same model"
        )
    width = 9  # ndim and up to 8 sizes per parameter
    codes = np.full((len(named), width), -1, dtype=np.int64)
    for i, (_, parameter) in enumerate(named):
        shape = parameter.shape[: width - 1]
        codes[i, 0] = parameter.ndim
        codes[i, 1 : 1 + len(shape)] = shape
    both = Tensor(np.concatenate([codes, -codes]).reshape(-1))
    collectives.all_reduce(both, op=collectives.ReduceOp.MAX)
    highest, lowest = both.array[: codes.size], -both.array[codes.size :]
    differs = np.flatnonzero((highest != lowest).reshape(len(named), width).any(axis=1))
    if differs.size:
        name, parameter = named[differs[0]]
        raise ValueError(
            f"DistributedDataParallel: parameter {name!r} has shape {tuple(parameter.shape)} on rank {get_rank()}, "
            f"and another shape on another rank (of {get_world_size()}): every rank must build the same model"
        )
