"""torch.utils.data's path to the data package: `from tinygrad_maas.utils.data import DataLoader`.

Everything lives in tinygrad_maas/data/; this module only gives it PyTorch's import path.
"""

from ..data import (  # noqa: F401
    BatchSampler,
    ConcatDataset,
    DataLoader,
    Dataset,
    DistributedSampler,
    IterableDataset,
    RandomSampler,
    Sampler,
    SequentialSampler,
    Subset,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
    default_collate,
    get_worker_info,
    random_split,
)
