"""Samplers: the order in which a DataLoader reads a dataset, as torch.utils.data's.

A sampler is an iterable of dataset indices; a batch sampler an iterable of lists of indices. The
DataLoader builds SequentialSampler or RandomSampler (shuffle=True) and a BatchSampler around it unless it
is given its own.
"""

import numpy as np

from ..random import generator as numpy_generator


class Sampler:
    """Base class: subclasses define __iter__ (indices) and usually __len__."""

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")


class SequentialSampler(Sampler):
    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler):
    """A random permutation of the indices each epoch, or with replacement=True num_samples independent
    draws; from `generator` (a tm.Generator) or the default one."""

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        self.data_source, self.replacement, self.generator = data_source, replacement, generator
        self._num_samples = num_samples
        if num_samples is not None and (
            isinstance(num_samples, bool) or not isinstance(num_samples, int) or num_samples < 1
        ):
            raise ValueError(f"RandomSampler: num_samples must be a positive integer, got {num_samples!r}")

    @property
    def num_samples(self):
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self):
        rng, count = numpy_generator(self.generator), len(self.data_source)
        if self.replacement:
            return iter(rng.integers(0, count, self.num_samples).tolist())
        rounds = [rng.permutation(count) for _ in range(-(-self.num_samples // max(count, 1)))]
        return iter(np.concatenate(rounds or [np.zeros(0, np.int64)])[: self.num_samples].tolist())

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices in a random order each epoch."""

    def __init__(self, indices, generator=None):
        self.indices, self.generator = list(indices), generator

    def __iter__(self):
        order = numpy_generator(self.generator).permutation(len(self.indices))
        return iter([self.indices[i] for i in order])

    def __len__(self):
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """num_samples indices drawn with probability proportional to `weights` (with replacement by default)."""

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        weights = np.asarray(weights.array if hasattr(weights, "array") else weights, dtype=np.float64)
        if weights.ndim != 1 or weights.size == 0 or (weights < 0).any() or not np.isfinite(weights).all():
            raise ValueError(
                f"WeightedRandomSampler: weights must be a 1-D sequence of non-negative numbers, got {weights!r:.80}"
            )
        if not replacement and num_samples > np.count_nonzero(weights):
            raise ValueError(
                "WeightedRandomSampler: without replacement, num_samples cannot exceed the non-zero weights"
            )
        self.weights, self.num_samples, self.replacement, self.generator = weights, num_samples, replacement, generator

    def __iter__(self):
        rng = numpy_generator(self.generator)
        chosen = rng.choice(self.weights.size, self.num_samples, self.replacement, self.weights / self.weights.sum())
        return iter(chosen.tolist())

    def __len__(self):
        return self.num_samples


class BatchSampler(Sampler):
    """Lists of batch_size indices from `sampler`; the last one shorter unless drop_last."""

    def __init__(self, sampler, batch_size, drop_last):
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size should be a positive integer value, but got batch_size={batch_size!r}")
        self.sampler, self.batch_size, self.drop_last = sampler, batch_size, drop_last

    def __iter__(self):
        batch = []
        for index in self.sampler:
            batch.append(int(index))
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self):
        count = len(self.sampler)
        return count // self.batch_size if self.drop_last else -(-count // self.batch_size)


class DistributedSampler(Sampler):
    """Rank `rank`'s share of the dataset when `num_replicas` processes train on it together, as PyTorch's.

    Every rank draws the same permutation (from seed + epoch: call set_epoch(epoch) before each epoch for a
    new order), pads it by repeating its start until it divides evenly (or, with drop_last, cuts the tail),
    and takes every num_replicas-th index from position rank. So the shards are disjoint and together cover
    the dataset once (plus at most num_replicas - 1 repeats). Rank and world size default to the
    process group's (tinygrad_maas.distributed). The permutation is NumPy's, not torch.randperm's.
    """

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0, drop_last=False):
        if num_replicas is None or rank is None:
            from .. import distributed

            num_replicas = distributed.get_world_size() if num_replicas is None else num_replicas
            rank = distributed.get_rank() if rank is None else rank
        if isinstance(num_replicas, bool) or not isinstance(num_replicas, int) or num_replicas < 1:
            raise ValueError(f"DistributedSampler: num_replicas must be a positive integer, got {num_replicas!r}")
        if isinstance(rank, bool) or not isinstance(rank, int) or not 0 <= rank < num_replicas:
            raise ValueError(f"DistributedSampler: rank must be from 0 to {num_replicas - 1}, got {rank!r}")
        self.dataset, self.num_replicas, self.rank = dataset, num_replicas, rank
        self.shuffle, self.seed, self.drop_last, self.epoch = shuffle, int(seed), drop_last, 0
        count = len(dataset)
        if drop_last and count % num_replicas:
            self.num_samples = (count - num_replicas) // num_replicas + 1 if count >= num_replicas else 0
        else:
            self.num_samples = -(-count // num_replicas)
        self.total_size = self.num_samples * num_replicas

    def __iter__(self):
        count = len(self.dataset)
        if self.shuffle:
            indices = np.random.default_rng(self.seed + self.epoch).permutation(count)
        else:
            indices = np.arange(count)
        if self.total_size > count and count:  # pad with the permutation's start, repeated as needed
            indices = np.resize(indices, self.total_size)
        indices = indices[: self.total_size]
        return iter(indices[self.rank : self.total_size : self.num_replicas].tolist())

    def __len__(self):
        return self.num_samples

    def set_epoch(self, epoch):
        """The epoch whose permutation the next iteration uses (the same on every rank)."""
        self.epoch = int(epoch)
