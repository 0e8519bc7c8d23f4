"""Training on more than one process, over MPI (the `distributed` extra: mpi4py and an MPI, e.g. the
`mpich` wheel, which puts `mpiexec` into the virtual environment), with PyTorch's torch.distributed names:

    mpiexec -n 2 python train.py

    import tinygrad_maas.distributed as dist
    dist.init_process_group()                  # rank and world size come from MPI
    dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    work = dist.all_reduce(tensor, async_op=True); ...; work.wait()

process_group.py starts and ends the group (and makes a failing rank stop the job); collectives.py holds the
collectives and point-to-point messages, each on a tensor's array in place, as PyTorch's; ddp.py is
DistributedDataParallel (also at tm.nn.parallel); pipeline.py splits an nn.Sequential into stages, one per
rank (Pipe, with the GPipe and 1F1B schedules).
"""

from . import pipeline
from .collectives import (
    ReduceOp,
    Work,
    all_gather,
    all_reduce,
    barrier,
    broadcast,
    irecv,
    isend,
    recv,
    reduce_scatter,
    send,
)
from .ddp import DistributedDataParallel
from .process_group import (
    destroy_process_group,
    get_backend,
    get_rank,
    get_world_size,
    init_process_group,
    is_available,
    is_initialized,
    is_mpi_available,
    launched_with_several_ranks,
)

__all__ = [
    "DistributedDataParallel",
    "ReduceOp",
    "Work",
    "all_gather",
    "all_reduce",
    "barrier",
    "broadcast",
    "destroy_process_group",
    "get_backend",
    "get_rank",
    "get_world_size",
    "init_process_group",
    "irecv",
    "is_available",
    "is_initialized",
    "is_mpi_available",
    "isend",
    "launched_with_several_ranks",
    "pipeline",
    "recv",
    "reduce_scatter",
    "send",
]
