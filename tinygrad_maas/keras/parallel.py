"""Keras' fit under mpiexec: data-parallel training with nothing changed in the script.

    mpiexec -n 2 python train.py        # the same script that trains on one process

When mpiexec (or Slurm) started several ranks, fit joins the process group, wraps the model's parameters in
DistributedDataParallel (rank 0's weights broadcast; gradients averaged during backward), gives each rank
every W-th sample (rank r: samples r, r + W, ...; padded by repeating the first ones so every rank takes the
same number of steps), and splits batch_size over the ranks: batch_size stays the global batch, as in
Keras' multi-worker training. So with shuffle=False the ranks together take exactly the steps one process
would. The epoch's logs are averaged over the ranks and printed by rank 0 only; validation runs on every
rank's identical model.
"""

import numpy as np

from .. import distributed
from ..tensor import Tensor


class DataParallelFit:
    def __init__(self, model):
        if not distributed.is_initialized():
            distributed.init_process_group()
        self.rank, self.world = distributed.get_rank(), distributed.get_world_size()
        wrapper = model.__dict__.get("_data_parallel")
        if wrapper is None:  # once per model: kept outside the module tree (no "_data_parallel." state keys)
            wrapper = distributed.DistributedDataParallel(model)
            object.__setattr__(model, "_data_parallel", wrapper)
        self.wrapper = wrapper

    def shard(self, arrays, weights):
        """This rank's samples of every array (and of the sample weights)."""
        count = len(arrays[0])
        padded = -(-count // self.world) * self.world
        order = np.resize(np.arange(count), padded)[self.rank :: self.world]
        return [a[order] for a in arrays], None if weights is None else weights[order]

    def batch_size(self, global_batch):
        return max(global_batch // self.world, 1)

    def mean(self, logs):
        """The epoch's logs averaged over the ranks (their shards are the same size)."""
        if not logs:
            return logs
        names = sorted(logs)
        values = Tensor(np.array([logs[n] for n in names], dtype=np.float64))
        distributed.all_reduce(values, op=distributed.ReduceOp.AVG)
        return dict(zip(names, values.array.tolist()))


def data_parallel(model):
    """A DataParallelFit when this process is one of several ranks, else None."""
    return DataParallelFit(model) if distributed.launched_with_several_ranks() else None
