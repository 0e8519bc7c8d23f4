"""Collectives and point-to-point messages on tensors, in place, with PyTorch's torch.distributed names.

    all_reduce(t, op)        every rank's t becomes op(t of rank 0, t of rank 1, ...)
    broadcast(t, src)        every rank's t becomes rank src's
    all_gather(ts, t)        ts[i] becomes rank i's t, on every rank
    reduce_scatter(t, ts)    rank r's t becomes op over ranks of their ts[r]
    send(t, dst) / recv(t, src)

Each runs as MPI's nonblocking form; with async_op=True the call returns a Work at once (computation can go
on while the message travels; DistributedDataParallel starts its bucket all-reduces this way), otherwise it
waits. Every wait has a timeout (init_process_group's, 30 minutes by default, or wait(timeout)): a rank that
never joins a collective makes the others raise an error naming the collective, never hang. AVG is SUM
divided by the world size, as in PyTorch. MPI does not check that the ranks' calls match (a size mismatch
completes silently); TINYGRAD_MAAS_DISTRIBUTED_DEBUG=1 makes every collective check it first.
"""

import os
import time

import numpy as np

from ..tensor import Tensor
from .process_group import _mpi, _require, check_launcher, get_world_size, timeout_seconds

_SPIN_SECONDS = 0.01  # how long a wait polls MPI without sleeping before it backs off


class ReduceOp:
    SUM, AVG, MAX, MIN, PRODUCT = "sum", "avg", "max", "min", "product"


class Work:
    """A collective in flight: wait() blocks until it is complete (at most `timeout`), is_completed() asks."""

    def __init__(self, requests, name, finish=None, keep=None):
        self._requests, self._name, self._finish, self._done = requests, name, finish, False
        self._keep = keep  # the arrays MPI reads or writes until completion stay alive with the work
        self.statuses = [_mpi().Status() for _ in requests]  # filled in on completion (a receive's sender)

    def is_completed(self):
        if not self._done and _mpi().Request.Testall(self._requests, self.statuses):
            self._complete()
        return self._done

    def wait(self, timeout=None):
        """Block until complete; RuntimeError after `timeout` (a timedelta or seconds; default the group's)."""
        limit = timeout_seconds(timeout)
        start = time.monotonic()
        deadline, pause = start + limit, 1e-5
        while not self.is_completed():
            check_launcher()
            now = time.monotonic()
            if now - start < _SPIN_SECONDS:
                continue  # MPI moves a message along only inside its calls: poll without sleeping at first
            if now > deadline:
                rank = _require().Get_rank()
                raise RuntimeError(
                    f"{self._name} on rank {rank} did not complete within {limit:g} s: another rank did not take "
                    "part (it failed, is slower by that much, or called a different collective)"
                )
            time.sleep(pause)
            pause = min(pause * 2, 1e-3)  # then back off: a long wait leaves the core to others
        return True

    def _complete(self):
        self._done = True
        if self._finish is not None:
            self._finish()
            self._finish = None


_MPI_OPS = {"sum": "SUM", "avg": "SUM", "max": "MAX", "min": "MIN", "product": "PROD"}


def _op(op, name):
    if op not in _MPI_OPS:
        raise ValueError(f"{name}(): op must be a ReduceOp (SUM, AVG, MAX, MIN, PRODUCT), got {op!r}")
    return getattr(_mpi(), _MPI_OPS[op])


def _buffer(tensor, name, what="tensor"):
    """(array to hand to MPI, function that copies it back into the tensor if it had to be copied)."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{name}(): {what} must be a tensor, got {type(tensor).__name__}")
    array = tensor.array
    if array.dtype.kind not in "fiub":
        raise TypeError(f"{name}(): {what} has dtype {array.dtype}, which cannot be sent")
    if array.flags.c_contiguous and array.flags.writeable:
        return array, None
    staged = np.ascontiguousarray(array)

    def copy_back():
        tensor.array[...] = staged

    return staged, copy_back


def _run(requests, name, async_op, finish=None):
    work = Work(requests, name, finish)
    if async_op:
        return work
    work.wait()
    return None


def _then(*steps):
    steps = [s for s in steps if s is not None]
    return (lambda: [s() for s in steps]) if steps else None


_COLLECTIVES = ("all_reduce", "broadcast", "all_gather", "reduce_scatter")


def debug_checks():
    """TINYGRAD_MAAS_DISTRIBUTED_DEBUG=1 (PyTorch's TORCH_DISTRIBUTED_DEBUG=DETAIL): every collective first
    checks that all ranks call the same collective on the same size and dtype. MPI does not: an all-reduce
    of 3 values on one rank and 4 on another completes, silently wrong."""
    return os.environ.get("TINYGRAD_MAAS_DISTRIBUTED_DEBUG", "") not in ("", "0", "OFF")


def _agree(comm, name, array, detail=0):
    """Raise, on every rank, if the ranks' (collective, size, dtype, op or root) differ: one small all-reduce
    of each rank's signature and its negation, whose MAX is the largest and minus the smallest."""
    if not debug_checks():
        return
    signature = np.array([_COLLECTIVES.index(name), array.size, array.dtype.num, detail], dtype=np.int64)
    both = np.concatenate([signature, -signature])
    Work([comm.Iallreduce(_mpi().IN_PLACE, both, op=_mpi().MAX)], f"{name} (debug check)").wait()
    if not np.array_equal(both[:4], -both[4:]):
        raise RuntimeError(
            f"{name}() on rank {comm.Get_rank()} (size {array.size}, {array.dtype}) does not match what the other "
            "ranks called: a different collective, size, dtype, op or root (TINYGRAD_MAAS_DISTRIBUTED_DEBUG)"
        )


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """tensor becomes op over every rank's tensor (in place)."""
    comm = _comm(group)
    mpi_op = _op(op, "all_reduce")
    array, copy_back = _buffer(tensor, "all_reduce")
    if op == ReduceOp.AVG and array.dtype.kind != "f":
        raise TypeError(f"all_reduce(): AVG needs a floating tensor, got {array.dtype}")
    _agree(comm, "all_reduce", array, list(_MPI_OPS).index(op))
    request = comm.Iallreduce(_mpi().IN_PLACE, array, op=mpi_op)
    return _run([request], "all_reduce", async_op, _then(_average(array, op), copy_back))


def _average(array, op):
    if op != ReduceOp.AVG:
        return None
    size = get_world_size()
    return lambda: np.divide(array, size, out=array)


def broadcast(tensor, src, group=None, async_op=False):
    """tensor becomes rank src's tensor (in place, on every rank)."""
    comm = _comm(group)
    _check_rank(src, comm, "broadcast", "src")
    array, copy_back = _buffer(tensor, "broadcast")
    _agree(comm, "broadcast", array, src)
    return _run([comm.Ibcast(array, root=src)], "broadcast", async_op, copy_back)


def all_gather(tensor_list, tensor, group=None, async_op=False):
    """tensor_list[i] becomes rank i's tensor, on every rank (each tensor of the list the shape of tensor)."""
    comm = _comm(group)
    size = comm.Get_size()
    array, _ = _buffer(tensor, "all_gather")
    _one_per_rank(tensor_list, tensor, size, "all_gather", "tensor_list", "tensor")
    _agree(comm, "all_gather", array)
    gathered = np.empty((size,) + array.shape, dtype=array.dtype)
    request = comm.Iallgather(np.ascontiguousarray(array), gathered)

    def scatter_into_list():
        for target, part in zip(tensor_list, gathered):
            target.array[...] = part

    return _run([request], "all_gather", async_op, scatter_into_list)


def _one_per_rank(tensors, like, size, name, what, like_name):
    """A list of `size` tensors (the world size), each with the shape and dtype of `like`."""
    if not isinstance(tensors, (list, tuple)) or len(tensors) != size:
        raise ValueError(f"{name}(): {what} must hold {size} tensors (the world size), got {tensors!r:.60}")
    for i, tensor in enumerate(tensors):
        _buffer(tensor, name, f"{what}[{i}]")
        if tensor.shape != like.shape or tensor.dtype != like.dtype:
            raise ValueError(
                f"{name}(): {what}[{i}] is {tensor.shape} {tensor.dtype}, {like_name} is {like.shape} {like.dtype}"
            )


def reduce_scatter(output, input_list, op=ReduceOp.SUM, group=None, async_op=False):
    """output on rank r becomes op over every rank's input_list[r]."""
    comm = _comm(group)
    size = comm.Get_size()
    mpi_op = _op(op, "reduce_scatter")
    array, copy_back = _buffer(output, "reduce_scatter", "output")
    _one_per_rank(input_list, output, size, "reduce_scatter", "input_list", "output")
    if op == ReduceOp.AVG and array.dtype.kind != "f":
        raise TypeError(f"reduce_scatter(): AVG needs a floating tensor, got {array.dtype}")
    _agree(comm, "reduce_scatter", array, list(_MPI_OPS).index(op))
    send = np.ascontiguousarray(np.stack([part.array for part in input_list]))
    request = comm.Ireduce_scatter_block(send, array, op=mpi_op)
    return _run([request], "reduce_scatter", async_op, _then(_average(array, op), copy_back))


def barrier(group=None, async_op=False, device_ids=None):
    """Every rank waits here until all have arrived."""
    return _run([_comm(group).Ibarrier()], "barrier", async_op)


def isend(tensor, dst, group=None, tag=0):
    comm = _comm(group)
    _check_rank(dst, comm, "isend", "dst")
    array = np.ascontiguousarray(_buffer(tensor, "isend")[0])
    return Work([comm.Isend(array, dest=dst, tag=tag)], f"send to rank {dst}", keep=array)


def irecv(tensor, src=None, group=None, tag=0):
    comm = _comm(group)
    if src is not None:
        _check_rank(src, comm, "irecv", "src")
    array, copy_back = _buffer(tensor, "irecv")
    source = _mpi().ANY_SOURCE if src is None else src
    return Work([comm.Irecv(array, source=source, tag=tag)], f"receive from rank {src}", copy_back)


def send(tensor, dst, group=None, tag=0):
    """Send tensor to rank dst (waits until the message is out)."""
    isend(tensor, dst, group, tag).wait()


def recv(tensor, src=None, group=None, tag=0):
    """Receive into tensor from rank src (any rank when None); returns the sender's rank."""
    work = irecv(tensor, src, group, tag)
    work.wait()
    return work.statuses[0].Get_source()


def _comm(group):
    if group is not None:
        raise ValueError("only the default process group (group=None) exists here; new_group() is not supported")
    return _require()


def _check_rank(rank, comm, name, what):
    size = comm.Get_size()
    if isinstance(rank, bool) or not isinstance(rank, int) or not 0 <= rank < size:
        raise ValueError(f"{name}(): {what} must be a rank from 0 to {size - 1}, got {rank!r}")
