"""Datasets: anything with __getitem__ and __len__, as torch.utils.data."""

import math

import numpy as np

from ..random import generator as numpy_generator
from ..tensor import Tensor


class Dataset:
    """Base class: subclasses define __getitem__(index) -> sample and __len__()."""

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __len__")


class IterableDataset(Dataset):
    """A stream of samples: subclasses define __iter__ (a DataLoader batches what it yields, in order)."""

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")

    def __getitem__(self, index):
        raise TypeError(f"{type(self).__name__} is an IterableDataset: it is read by iterating, not by index")

    def __len__(self):
        raise TypeError(f"{type(self).__name__} is a stream without a length (define __len__ to give one)")


class TensorDataset(Dataset):
    """Samples are the rows of equally long tensors (or arrays): dataset[i] = (t1[i], t2[i], ...)."""

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        tensors = tuple(t if isinstance(t, Tensor) else Tensor(t) for t in tensors)
        lengths = {t.shape[0] if t.ndim else None for t in tensors}
        if len(lengths) != 1 or None in lengths:
            raise ValueError(
                f"TensorDataset: all tensors need the same first dimension, got shapes {[t.shape for t in tensors]}"
            )
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self):
        return self.tensors[0].shape[0]

    def get_batch(self, indices):
        """The batch for these indices, already collated: one fancy-index per tensor instead of stacking
        len(indices) rows one by one (what the DataLoader uses when a dataset offers it)."""
        return tuple(Tensor._constant(t.array[indices]) for t in self.tensors)


class ConcatDataset(Dataset):
    """Several datasets one after another: index i reads the dataset it falls in."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        self.cumulative_sizes = np.cumsum([len(d) for d in self.datasets]).tolist()

    def __len__(self):
        return self.cumulative_sizes[-1]

    def __getitem__(self, index):
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(f"ConcatDataset: index {index} is out of range for {len(self)} samples")
        which = int(np.searchsorted(self.cumulative_sizes, index, side="right"))
        start = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][index - start]


class Subset(Dataset):
    def __init__(self, dataset, indices):
        self.dataset, self.indices = dataset, list(indices)

    def __getitem__(self, index):
        return self.dataset[self.indices[index]]

    def __len__(self):
        return len(self.indices)

    def get_batch(self, indices):
        inner = [self.indices[i] for i in indices]
        if hasattr(self.dataset, "get_batch"):
            return self.dataset.get_batch(inner)
        from .dataloader import default_collate

        return default_collate([self.dataset[i] for i in inner])


def random_split(dataset, lengths, generator=None):
    """Split into non-overlapping Subsets of the given lengths (or fractions summing to 1, with the
    remainder given out one by one from the first, as PyTorch), in a random order."""
    total = len(dataset)
    if all(isinstance(n, float) for n in lengths) and math.isclose(sum(lengths), 1.0) and sum(lengths) <= 1:
        counts = [int(math.floor(total * fraction)) for fraction in lengths]
        for i in range(total - sum(counts)):
            counts[i % len(counts)] += 1
        lengths = counts
    if any(isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0 for n in lengths):
        raise ValueError(
            f"random_split(): lengths must be non-negative integers or fractions summing to 1, got {lengths}"
        )
    if sum(lengths) != total:
        raise ValueError(
            f"random_split(): lengths {list(lengths)} sum to {sum(lengths)}, but the dataset has {total} samples"
        )
    order = numpy_generator(generator).permutation(total)
    subsets, start = [], 0
    for length in lengths:
        subsets.append(Subset(dataset, order[start : start + length].tolist()))
        start += length
    return subsets
