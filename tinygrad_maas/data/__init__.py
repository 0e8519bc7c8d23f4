"""Feeding data to training: datasets, samplers and the DataLoader (torch.utils.data's names; also
importable as tinygrad_maas.utils.data)."""

from . import datasets  # noqa: F401
from .dataloader import DataLoader, default_collate  # noqa: F401
from .dataset import ConcatDataset, Dataset, IterableDataset, Subset, TensorDataset, random_split  # noqa: F401
from .sampler import (  # noqa: F401
    BatchSampler,
    DistributedSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)
from .workers import get_worker_info  # noqa: F401
