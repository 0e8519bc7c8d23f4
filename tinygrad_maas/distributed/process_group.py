"""The process group: every process started by mpiexec, its rank and the world's size, from MPI.

init_process_group() imports mpi4py (the `distributed` extra), checks any rank / world_size it is given
against MPI's, and keeps the default timeout for every wait (PyTorch's default, 30 minutes). It also makes
an exception that escapes a rank stop the whole job: the rank prints its error with its number, then
MPI_Abort ends every process, so the others never wait forever for a rank that is gone. A rank that dies
without an exception (killed) is noticed by mpiexec, which stops the rest of the job (MPICH's has been seen
to miss one: `python -m tinygrad_maas.distributed.run` stops the job itself then); a rank whose mpiexec is
gone stops at its next wait (check_launcher), and every wait has a timeout besides.
"""

import datetime
import os
import sys
import time

DEFAULT_TIMEOUT = datetime.timedelta(minutes=30)


class _Group:
    comm = None  # the MPI communicator (COMM_WORLD) once initialized
    timeout = DEFAULT_TIMEOUT
    previous_excepthook = None
    launcher = None  # the parent process (mpiexec's proxy) when the group started


_group = _Group()


def _mpi():
    try:
        from mpi4py import MPI
    except ImportError:
        raise ImportError(
            "tinygrad_maas.distributed needs mpi4py and an MPI: pip install 'tinygrad_maas[distributed]' "
            "(mpi4py and the mpich wheel, which installs mpiexec), or mpi4py built against your cluster's MPI"
        ) from None
    return MPI


def is_available():
    return True


def launched_with_several_ranks():
    """True when mpiexec (MPICH's PMI_SIZE, Open MPI's OMPI_COMM_WORLD_SIZE) or Slurm started this process
    as one of several: the command line and Keras' fit then train data-parallel by themselves."""
    for variable in ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "SLURM_NTASKS"):
        value = os.environ.get(variable, "")
        if value.isdigit() and int(value) > 1:
            return True
    return False


def is_mpi_available():
    try:
        _mpi()
    except ImportError:
        return False
    return True


def init_process_group(backend="mpi", init_method=None, timeout=None, world_size=-1, rank=-1, **unsupported):
    """Join the group of processes mpiexec started. backend is "mpi" (PyTorch's name for it); rank and
    world_size, when given, must be MPI's."""
    if unsupported:
        raise TypeError(f"init_process_group(): unsupported arguments {sorted(unsupported)}")
    if backend not in ("mpi", None):
        raise ValueError(f"init_process_group(): backend {backend!r} is not available here; use 'mpi'")
    if init_method not in (None, "env://"):
        raise ValueError("init_process_group(): init_method is not used: MPI (mpiexec) says who the processes are")
    if _group.comm is not None:
        raise RuntimeError("init_process_group(): the default process group is already initialized")
    MPI = _mpi()
    comm = MPI.COMM_WORLD
    if world_size not in (-1, None) and world_size != comm.Get_size():
        raise ValueError(f"init_process_group(): world_size={world_size}, but mpiexec started {comm.Get_size()}")
    if rank not in (-1, None) and rank != comm.Get_rank():
        raise ValueError(f"init_process_group(): rank={rank}, but MPI says this process is {comm.Get_rank()}")
    if timeout is not None and not isinstance(timeout, datetime.timedelta):
        raise TypeError(f"init_process_group(): timeout must be a datetime.timedelta, got {type(timeout).__name__}")
    _group.comm, _group.timeout, _group.launcher = comm, timeout or DEFAULT_TIMEOUT, os.getppid()
    _group.previous_excepthook = sys.excepthook
    sys.excepthook = _abort_on_exception


def destroy_process_group(group=None):
    _check_group(group)
    _require()
    sys.excepthook = _group.previous_excepthook or sys.__excepthook__
    _group.comm = None


def is_initialized():
    return _group.comm is not None


def get_rank(group=None):
    _check_group(group)
    return _require().Get_rank()


def get_world_size(group=None):
    _check_group(group)
    return _require().Get_size()


def get_backend(group=None):
    _check_group(group)
    _require()
    return "mpi"


def timeout_seconds(timeout=None):
    """A wait's limit in seconds: the call's own timeout, else the group's."""
    limit = timeout if timeout is not None else _group.timeout
    return limit.total_seconds() if isinstance(limit, datetime.timedelta) else float(limit)


def check_launcher():
    """Raise if mpiexec is gone: it ends a job whose rank died, but a rank it could not reach would wait for
    the dead one until its timeout. Waits call this while they poll."""
    if _group.launcher is not None and os.getppid() != _group.launcher:
        raise RuntimeError(
            f"rank {_group.comm.Get_rank()}: the launcher (mpiexec) that started this job has ended, so another "
            "rank failed; stopping this one"
        )


def _require():
    if _group.comm is None:
        raise RuntimeError(
            "the default process group is not initialized: call tinygrad_maas.distributed.init_process_group() "
            "first (and start the program with mpiexec -n N)"
        )
    return _group.comm


def _check_group(group):
    if group is not None:
        raise ValueError("only the default process group (group=None) exists here; new_group() is not supported")


def _abort_on_exception(kind, value, traceback):
    """An exception escaped this rank: say which rank failed, then end every process of the job."""
    rank = _group.comm.Get_rank() if _group.comm is not None else "?"
    print(f"[rank {rank}] failed; stopping every rank of the job:", file=sys.stderr)
    (_group.previous_excepthook or sys.__excepthook__)(kind, value, traceback)
    sys.stderr.flush()
    if _group.comm is not None:
        time.sleep(0.5)  # let mpiexec forward the message before the abort stops its output streams too
        _group.comm.Abort(1)
