"""torch.nn.parallel's import path: DistributedDataParallel lives in tinygrad_maas/distributed/ddp.py."""

from ..distributed.ddp import DistributedDataParallel

__all__ = ["DistributedDataParallel"]
