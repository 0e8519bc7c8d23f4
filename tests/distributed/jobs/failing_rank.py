"""Rank 1 raises while rank 0 waits in an all_reduce: the job must end (MPI_Abort, process_group.py)."""

import time

import tinygrad_maas as tm
import tinygrad_maas.distributed as dist

dist.init_process_group()
if dist.get_rank() == 1:
    time.sleep(0.5)
    raise ValueError("the data of this rank is broken")
dist.all_reduce(tm.ones(3))
print("rank 0 was never answered, yet finished", flush=True)
