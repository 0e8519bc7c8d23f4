"""Rank 1 dies without an exception (killed by SIGKILL, or os._exit(3)) while rank 0 waits in an all_reduce."""

import os
import signal
import sys
import time

import tinygrad_maas as tm
import tinygrad_maas.distributed as dist

how = sys.argv[1]
dist.init_process_group()
if dist.get_rank() == 1:
    time.sleep(0.5)
    if how == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    os._exit(3)
dist.all_reduce(tm.ones(3))
print("rank 0 was never answered, yet finished", flush=True)
