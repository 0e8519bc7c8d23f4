"""DataLoader: batches from a dataset, optionally shuffled, as torch.utils.data.DataLoader."""

import numpy as np

from ..random import generator as numpy_generator
from ..tensor import Tensor, stack
from .dataset import IterableDataset
from .sampler import BatchSampler, RandomSampler, SequentialSampler
from .workers import WorkerPool


def default_collate(samples):
    """Stack a list of samples into a batch, keeping their structure: tensors and arrays are stacked on a
    new first dim, Python floats become a float32 tensor, ints an int64 tensor, and tuples, lists and dicts
    are collated field by field (PyTorch's rules)."""
    first = samples[0]
    if isinstance(first, (Tensor, np.ndarray)):
        _check_same_shapes(samples)
        return stack(samples) if isinstance(first, Tensor) else Tensor._constant(np.stack(samples))
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


def _check_same_shapes(samples):
    shapes = [tuple(sample.shape) for sample in samples]
    for position, shape in enumerate(shapes):
        if shape != shapes[0]:
            raise ValueError(
                f"default_collate(): the samples of a batch must have one shape to be stacked, got {shapes[0]} "
                f"at entry 0 and {shape} at entry {position}; pad them to one shape in a collate_fn, or use "
                "batch_size=1"
            )


class _Fetcher:
    """Turns a list of indices into a batch (in the main process or in a worker): the dataset's own
    get_batch when it has one and no collate_fn was given, else collate_fn of the samples. Without
    automatic batching (batch_size=None) each index is one sample, passed through as it is."""

    def __init__(self, dataset, collate_fn, batching):
        self.dataset, self.collate_fn, self.batching = dataset, collate_fn, batching

    def __call__(self, indices):
        if not self.batching:
            sample = self.dataset[indices]
            return sample if self.collate_fn is None else self.collate_fn(sample)
        if self.collate_fn is None and hasattr(self.dataset, "get_batch"):
            return self.dataset.get_batch(indices)
        return (self.collate_fn or default_collate)([self.dataset[int(i)] for i in indices])


class DataLoader:
    """Iterate over a dataset in batches, as torch.utils.data.DataLoader.

    The order comes from `sampler` (default: in order, or a new permutation each epoch with shuffle=True,
    drawn from `generator` or the default generator, so a seeded run repeats exactly), grouped into
    batches of batch_size (drop_last drops a short last one), or from a `batch_sampler` giving whole
    batches. batch_size=None turns batching off. num_workers > 0 loads batches in worker processes
    (data/workers.py): the same batches in the same order, with worker_init_fn, timeout,
    prefetch_factor and persistent_workers as in PyTorch. pin_memory is accepted and does nothing: there
    is no GPU memory to copy to.
    """

    def __init__(
        self,
        dataset,
        batch_size=1,
        shuffle=None,
        sampler=None,
        batch_sampler=None,
        num_workers=0,
        collate_fn=None,
        pin_memory=False,
        drop_last=False,
        timeout=0,
        worker_init_fn=None,
        multiprocessing_context=None,
        generator=None,
        *,
        prefetch_factor=None,
        persistent_workers=False,
        pin_memory_device="",
    ):
        if isinstance(num_workers, bool) or not isinstance(num_workers, int) or num_workers < 0:
            raise ValueError(f"DataLoader: num_workers must be a non-negative integer, got {num_workers!r}")
        if timeout < 0:
            raise ValueError(f"DataLoader: timeout must be non-negative, got {timeout}")
        if num_workers == 0 and (prefetch_factor is not None or persistent_workers):
            raise ValueError("DataLoader: prefetch_factor and persistent_workers need num_workers > 0")
        if isinstance(dataset, IterableDataset):
            if shuffle or sampler is not None or batch_sampler is not None:
                raise ValueError(
                    "DataLoader: an IterableDataset gives its own order: no shuffle, sampler or batch_sampler"
                )
            if num_workers:
                raise NotImplementedError("DataLoader: num_workers > 0 with an IterableDataset is not supported yet")
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError(
                    "DataLoader: batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, "
                    "and drop_last"
                )
            batch_size = None
        elif batch_size is None:
            if drop_last:
                raise ValueError("DataLoader: batch_size=None (no batching) is mutually exclusive with drop_last")
        elif isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive integer, got {batch_size!r}")
        if sampler is None and not isinstance(dataset, IterableDataset):
            sampler = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None and sampler is not None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.dataset, self.batch_size, self.drop_last, self.shuffle = dataset, batch_size, drop_last, bool(shuffle)
        self.sampler, self.batch_sampler, self.generator = sampler, batch_sampler, generator
        self.num_workers, self.collate_fn, self.pin_memory, self.timeout = num_workers, collate_fn, pin_memory, timeout
        self.worker_init_fn, self.multiprocessing_context = worker_init_fn, multiprocessing_context
        self.prefetch_factor, self.persistent_workers = prefetch_factor, persistent_workers
        self._pool = None

    @property
    def _index_batches(self):
        return self.batch_sampler if self.batch_sampler is not None else self.sampler

    def __len__(self):
        if isinstance(self.dataset, IterableDataset):
            count = len(self.dataset)  # a TypeError when the stream has no length, as in PyTorch
            if self.batch_size is None:
                return count
            return count // self.batch_size if self.drop_last else -(-count // self.batch_size)
        return len(self._index_batches)

    def _stream(self):
        """The batches of an IterableDataset: its samples in order, batch_size at a time."""
        collate = self.collate_fn or default_collate
        if self.batch_size is None:
            yield from (sample if self.collate_fn is None else self.collate_fn(sample) for sample in self.dataset)
            return
        batch = []
        for sample in self.dataset:
            batch.append(sample)
            if len(batch) == self.batch_size:
                yield collate(batch)
                batch = []
        if batch and not self.drop_last:
            yield collate(batch)

    def __iter__(self):
        if isinstance(self.dataset, IterableDataset):
            yield from self._stream()
            return
        fetch = _Fetcher(self.dataset, self.collate_fn, self.batch_sampler is not None)
        if self.num_workers == 0:
            for indices in self._index_batches:
                yield fetch(indices)
            return
        if self._pool is None:
            base_seed = int(numpy_generator(self.generator).integers(0, 2**62))
            self._pool = WorkerPool(self, fetch, base_seed)
        try:
            yield from self._pool.batches(iter(self._index_batches))
        finally:
            if not self.persistent_workers:
                self._pool.shutdown()
                self._pool = None

    def __del__(self):
        if getattr(self, "_pool", None) is not None:
            self._pool.shutdown()
