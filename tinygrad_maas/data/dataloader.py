"""DataLoader: batches from a dataset, optionally shuffled, as torch.utils.data.DataLoader."""

import numpy as np

from ..random import generator as numpy_generator
from ..tensor import Tensor, stack


def default_collate(samples):
    """Stack a list of samples into a batch, keeping their structure: tensors and arrays are stacked on a
    new first dim, Python floats become a float32 tensor, ints an int64 tensor, and tuples, lists and dicts
    are collated field by field (PyTorch's rules)."""
    first = samples[0]
    if isinstance(first, Tensor):
        return stack(samples)
    if isinstance(first, np.ndarray):
        return Tensor._constant(np.stack(samples))
    if isinstance(first, (bool, np.bool_)):
        return Tensor(np.array(samples, dtype=np.bool_))
    if isinstance(first, (int, np.integer)):
        return Tensor(np.array(samples, dtype=np.int64))
    if isinstance(first, (float, np.floating)):
        return Tensor(np.array(samples, dtype=np.float32))
    if isinstance(first, str):
        return list(samples)
    if isinstance(first, dict):
        return {key: default_collate([sample[key] for sample in samples]) for key in first}
    if isinstance(first, (tuple, list)):
        if any(len(sample) != len(first) for sample in samples):
            raise ValueError("default_collate(): samples of a batch have different numbers of fields")
        return (
            type(first)(default_collate(list(field)) for field in zip(*samples))
            if isinstance(first, tuple)
            else [default_collate(list(field)) for field in zip(*samples)]
        )
    raise TypeError(f"default_collate(): cannot batch samples of type {type(first).__name__}")


class DataLoader:
    """Iterate over a dataset in batches.

    shuffle=True draws a new order every epoch from `generator` (an np.random.Generator; by default the one
    tm.manual_seed seeds, so a seeded run repeats exactly). drop_last drops a final short batch.
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, drop_last=False, collate_fn=None, generator=None):
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive integer, got {batch_size!r}")
        self.dataset, self.batch_size, self.shuffle, self.drop_last = dataset, batch_size, shuffle, drop_last
        self.collate_fn, self.generator = collate_fn, generator

    def __len__(self):
        count = len(self.dataset)
        return count // self.batch_size if self.drop_last else -(-count // self.batch_size)

    def __iter__(self):
        count = len(self.dataset)
        order = numpy_generator(self.generator).permutation(count) if self.shuffle else np.arange(count)
        direct = self.collate_fn is None and hasattr(self.dataset, "get_batch")
        for start in range(0, count, self.batch_size):
            indices = order[start : start + self.batch_size]
            if self.drop_last and len(indices) < self.batch_size:
                return
            if direct:
                yield self.dataset.get_batch(indices)
            else:
                yield (self.collate_fn or default_collate)([self.dataset[int(i)] for i in indices])
