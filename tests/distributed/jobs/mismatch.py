"""With TINYGRAD_MAAS_DISTRIBUTED_DEBUG=1, ranks calling different sizes or different collectives get an
error on every rank (MPI itself completes an all-reduce of 3 values against 4 silently)."""

import os

import tinygrad_maas as tm
import tinygrad_maas.distributed as dist

os.environ["TINYGRAD_MAAS_DISTRIBUTED_DEBUG"] = "1"
dist.init_process_group()
rank = dist.get_rank()
for case, call in (
    ("different sizes", lambda: dist.all_reduce(tm.ones(3 + rank))),
    ("different collectives", lambda: dist.all_reduce(tm.ones(3)) if rank else dist.broadcast(tm.ones(3), src=0)),
):
    try:
        call()
    except RuntimeError as error:
        assert "does not match what the other ranks called" in str(error), error
        if rank == 0:
            print("ok", case, flush=True)
    else:
        raise AssertionError(f"{case}: no error on rank {rank}")
dist.all_reduce(tm.ones(3))  # matching calls still work with the checks on
dist.destroy_process_group()
