"""Loading batches in worker processes: DataLoader(num_workers=n), as PyTorch does it.

The main process decides everything that makes a run repeatable (the sampler's order, and one base seed
per iterator drawn from the loader's generator) and sends each batch's indices to the workers in turn
(batch k goes to worker k mod n). A worker seeds its generators with base_seed + worker_id, runs
worker_init_fn(worker_id), loads and collates the samples, and sends the batch back; the main process
yields batches in order, however the workers' finishing order falls. At most prefetch_factor batches per
worker are in flight.

Nothing waits forever: a worker waiting for work checks once a second that the main process is alive (an
orphan exits), and every read of the result queue wakes up at least once a second to check that the
workers are alive (a dead worker is an error naming it and its exit code) and, with timeout > 0, that a
batch came within `timeout` seconds. An exception in a worker is raised in the main process with the
worker's traceback. Batches cross the process boundary as NumPy arrays through multiprocessing's queues
(the process's own children, never a file).
"""

import multiprocessing
import queue
import random
import time
import traceback

import numpy as np

from ..tensor import Tensor

_POLL_SECONDS = 1.0
_worker_info = None


class WorkerInfo:
    """What get_worker_info() returns inside a worker: id, num_workers, seed, dataset."""

    def __init__(self, id, num_workers, seed, dataset):
        self.id, self.num_workers, self.seed, self.dataset = id, num_workers, seed, dataset

    def __repr__(self):
        return f"WorkerInfo(id={self.id}, num_workers={self.num_workers}, seed={self.seed})"


def get_worker_info():
    """Inside a DataLoader worker: its WorkerInfo; in the main process: None."""
    return _worker_info


class _Array:
    """A tensor on its way between processes: just its array."""

    def __init__(self, array):
        self.array = array


def _packed(batch):
    if isinstance(batch, Tensor):
        return _Array(batch.array)
    if isinstance(batch, (list, tuple)):
        return type(batch)(_packed(item) for item in batch)
    if isinstance(batch, dict):
        return {key: _packed(value) for key, value in batch.items()}
    return batch


def _unpacked(batch):
    if isinstance(batch, _Array):
        return Tensor._constant(batch.array)
    if isinstance(batch, (list, tuple)):
        return type(batch)(_unpacked(item) for item in batch)
    if isinstance(batch, dict):
        return {key: _unpacked(value) for key, value in batch.items()}
    return batch


def _worker_loop(fetch, tasks, results, worker_id, num_workers, seed, init_fn, dataset):
    global _worker_info
    from .. import random as tm_random

    tm_random.manual_seed(seed % 2**63)
    np.random.seed(seed % 2**32)
    random.seed(seed)
    _worker_info = WorkerInfo(worker_id, num_workers, seed, dataset)
    try:
        if init_fn is not None:
            init_fn(worker_id)
    except Exception as error:  # reported with the first task, so the main process raises it
        failure = (type(error).__name__, traceback.format_exc())
    else:
        failure = None
    parent = multiprocessing.parent_process()
    while True:
        try:
            task = tasks.get(timeout=_POLL_SECONDS)
        except queue.Empty:
            if parent is not None and not parent.is_alive():  # the main process died without saying so
                return
            continue
        if task is None:
            return
        epoch, number, indices = task
        if failure is not None:
            results.put((epoch, number, None, failure))
            continue
        try:
            results.put((epoch, number, _packed(fetch(indices)), None))
        except Exception as error:
            results.put((epoch, number, None, (type(error).__name__, traceback.format_exc())))


class WorkerPool:
    """num_workers processes loading batches for one DataLoader (for one epoch, or for every epoch with
    persistent_workers=True)."""

    def __init__(self, loader, fetch, base_seed):
        context = loader.multiprocessing_context
        if context is None or isinstance(context, str):
            context = multiprocessing.get_context(context)
        self.num_workers, self.timeout = loader.num_workers, loader.timeout
        self.prefetch = (loader.prefetch_factor or 2) * loader.num_workers
        self.results = context.Queue()
        self.tasks = [context.Queue() for _ in range(self.num_workers)]
        self.workers = []
        self.epoch = 0
        for worker_id in range(self.num_workers):
            process = context.Process(
                target=_worker_loop,
                args=(
                    fetch,
                    self.tasks[worker_id],
                    self.results,
                    worker_id,
                    self.num_workers,
                    base_seed + worker_id,
                    loader.worker_init_fn,
                    loader.dataset,
                ),
                daemon=True,
            )
            process.start()
            self.workers.append(process)

    def batches(self, index_batches):
        """The collated batches for these lists of indices, in order."""
        self.epoch += 1
        pending = iter(enumerate(index_batches))
        in_flight, arrived, expected = 0, {}, 0
        for number, indices in pending:
            self.tasks[number % self.num_workers].put((self.epoch, number, indices))
            in_flight += 1
            if in_flight == self.prefetch:
                break
        while in_flight:
            while expected not in arrived:
                epoch, number, payload, failure = self._next_result()
                if epoch == self.epoch:  # results of an abandoned earlier epoch are dropped
                    arrived[number] = (payload, failure)
            payload, failure = arrived.pop(expected)
            in_flight -= 1
            expected += 1
            if failure is not None:
                name, text = failure
                raise RuntimeError(
                    f"DataLoader worker {(expected - 1) % self.num_workers} raised {name} while loading "
                    f"batch {expected - 1}:\n{text}"
                )
            following = next(pending, None)
            if following is not None:
                number, indices = following
                self.tasks[number % self.num_workers].put((self.epoch, number, indices))
                in_flight += 1
            yield _unpacked(payload)

    def _next_result(self):
        started = time.monotonic()
        while True:
            try:
                return self.results.get(timeout=_POLL_SECONDS)
            except queue.Empty:
                for worker_id, process in enumerate(self.workers):
                    if not process.is_alive():
                        self.shutdown()
                        raise RuntimeError(
                            f"DataLoader worker {worker_id} (pid {process.pid}) exited unexpectedly with exit "
                            f"code {process.exitcode}"
                        ) from None
                if self.timeout and time.monotonic() - started > self.timeout:
                    self.shutdown()
                    raise RuntimeError(
                        f"DataLoader timed out after {self.timeout} seconds waiting for a batch"
                    ) from None

    def shutdown(self):
        for tasks in self.tasks:
            try:
                tasks.put(None)
            except (ValueError, OSError):  # already closed
                pass
        for process in self.workers:
            process.join(timeout=5)
            if process.is_alive():
                process.terminate()
                process.join(timeout=5)
        self.workers = []
