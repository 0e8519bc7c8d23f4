"""Rank 1 fails (raises, or dies with os._exit) while rank 0 waits in an all_reduce: the job must end."""

import os
import sys
import time

import tinygrad_maas as tm
import tinygrad_maas.distributed as dist

how = sys.argv[1]
dist.init_process_group()
if dist.get_rank() == 1:
    time.sleep(0.5)
    if how == "raise":
        raise ValueError("the data of this rank is broken")
    os._exit(3)
dist.all_reduce(tm.ones(3))
print("rank 0 was never answered, yet finished", flush=True)
