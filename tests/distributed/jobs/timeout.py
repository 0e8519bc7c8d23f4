"""Rank 1 never joins the collective: rank 0's wait ends with an error naming it, within its timeout."""

import datetime
import time

import tinygrad_maas as tm
import tinygrad_maas.distributed as dist

dist.init_process_group(timeout=datetime.timedelta(seconds=2))
if dist.get_rank() == 0:
    try:
        dist.all_reduce(tm.ones(3))
    except RuntimeError as error:
        print("timed out:", error, flush=True)
else:
    time.sleep(4)
    dist.all_reduce(tm.ones(3))  # late: rank 0 has given up on this one
