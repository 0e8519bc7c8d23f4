"""Scheduling one model version's requests: a bounded priority queue, dynamic batching, queue timeouts, and
a fixed number of forward passes at a time.

    request --submit--> [ waiting jobs, by (priority, arrival) ] --dispatch--> batch --execute--> each its rows

- A job is one request's inputs (or one explanation). Waiting jobs are ordered by priority level (1 runs
  first), then by arrival. At most max_queue_size wait; one more is answered 503 at once (backpressure).
- The dispatcher takes the first waiting job and, in queue order, every later job whose inputs have the same
  shapes past the batch axis (only those can be concatenated) until the batch holds max_batch_size rows.
  A job that would overflow the batch ends it, so jobs of one shape run in the order they came. With
  max_queue_delay_us > 0 an unfilled batch waits that long (from its first job's arrival) for more; with 0
  (the default, as Triton's) it takes what is queued: while one batch runs, the next one queues up.
- instance_count batches may run at once, each in a worker thread of this scheduler's own pool, so a slow
  or hung model holds only its own threads.
- A job that waits past its timeout is answered 503 when the timeout passes (not when a batch next forms).
- Whatever goes wrong while a batch is joined, run or split fails exactly the jobs of that batch; the
  dispatcher itself never dies, and it only runs while jobs are waiting (an idle model holds no task).
"""

import asyncio
import concurrent.futures
import contextlib
import functools
import itertools
import time

import numpy as np

from .errors import ApiError, retry_after


class Job:
    __slots__ = ("arrays", "rows", "key", "work", "order", "future", "queued_at", "timer", "taken")

    def __init__(self, arrays, key, work, order):
        self.arrays, self.key, self.work, self.order = arrays, key, work, order
        self.rows = next(iter(arrays.values())).shape[0] if arrays else 1
        self.queued_at, self.timer, self.taken, self.future = time.perf_counter(), None, False, None


def _fail(batch, problem):
    for job in batch:
        if not job.future.done():
            job.future.set_exception(problem)


def batch_key(arrays):
    """Requests may share a forward pass only when every input agrees past the batch axis."""
    return tuple((name, array.shape[1:], array.dtype.str) for name, array in arrays.items())


class Scheduler:
    def __init__(self, model, config, metrics):
        self.model, self.config, self.metrics = model, config, metrics
        self.pending = []  # waiting jobs, sorted by Job.order = (priority, arrival number)
        self.arrivals = itertools.count()
        self.dispatcher = None  # the task forming batches, alive only while jobs wait
        self.slots = None  # asyncio.Semaphore(instance_count), made in the server's loop
        self.wakeup = None  # set when a job arrives, for a batch waiting to fill
        self.closed = None  # the reason, once retired: only requests that hold it may still submit
        self.holders = 0  # requests between taking this model and their answer (held())
        self.running = set()  # batches executing (futures of the worker threads)
        self.executor = concurrent.futures.ThreadPoolExecutor(
            config.instance_count, thread_name_prefix=f"model-{model.name}"
        )

    async def infer(self, arrays, priority=0, timeout_us=None):
        """The model's outputs for one request's inputs (its rows only)."""
        return await self._submit(Job(arrays, batch_key(arrays), None, (priority, next(self.arrivals))), timeout_us)

    async def call(self, work, priority=0, timeout_us=None):
        """Run work() alone (an explanation) in this model's queue and worker threads; its result."""
        return await self._submit(Job({}, None, work, (priority, next(self.arrivals))), timeout_us)

    async def _submit(self, job, timeout_us):
        if self.closed and not self.holders:
            raise ApiError(503, self.closed, retry_after(1))
        if len(self.pending) >= self.config.max_queue_size:
            self.metrics.rejected("queue_full")
            raise ApiError(
                503,
                f"model {self.model.name!r} version {self.model.version} has "
                f"{len(self.pending)} requests waiting, its limit; retry later",
                retry_after(1),
            )
        loop = asyncio.get_running_loop()
        if self.slots is None:
            self.slots, self.wakeup = asyncio.Semaphore(self.config.instance_count), asyncio.Event()
        if timeout_us is None or not self.config.allow_timeout_override:
            timeout_us = self.config.queue_timeout_us
        job.future = loop.create_future()
        job.future.add_done_callback(lambda _: self._forget(job))  # also when the request gives up
        job.timer = loop.call_later(timeout_us / 1e6, self._expire, job, timeout_us)
        self.pending.append(job)
        self.pending.sort(key=lambda waiting: waiting.order)
        self.wakeup.set()
        if self.dispatcher is None or self.dispatcher.done():
            self.dispatcher = loop.create_task(self._dispatch())
        return await job.future

    def _forget(self, job):
        job.timer.cancel()
        if not job.taken and job in self.pending:
            self.pending.remove(job)

    def _expire(self, job, timeout_us):
        if not job.taken and not job.future.done():
            self.metrics.rejected("queue_timeout")
            job.future.set_exception(
                ApiError(
                    503,
                    f"the request waited in the queue of model {self.model.name!r} "
                    f"longer than its timeout of {timeout_us} us",
                    retry_after(1),
                )
            )

    async def _dispatch(self):
        while self.pending:
            await self.slots.acquire()
            try:
                self._start(await self._form_batch() if self.pending else [])
            except Exception as problem:  # noqa: BLE001 - a bug here must not leave requests hanging
                self.slots.release()
                failed, self.pending = self.pending, []
                _fail(failed, problem)
        self._let_threads_go(dispatcher_ending=True)

    def _start(self, batch):
        """Submit a batch to the worker threads now (so a retired scheduler may let its pool go once the
        dispatcher ends) and answer it when it is done."""
        if not batch:
            self.slots.release()
            return
        loop = asyncio.get_running_loop()
        try:
            if batch[0].key is None:
                work = loop.run_in_executor(self.executor, batch[0].work)
            else:
                work = loop.run_in_executor(self.executor, self._run_batch, [job.arrays for job in batch])
        except Exception as problem:  # noqa: BLE001 - a pool that refuses work fails this batch only
            self.slots.release()
            _fail(batch, problem)
            return
        self.running.add(work)
        work.add_done_callback(functools.partial(self._finished, batch, time.perf_counter()))

    def _select(self):
        """(the next batch's jobs, whether it is full)."""
        head = self.pending[0]
        if head.key is None:
            return [head], True
        batch, rows = [head], head.rows
        for job in self.pending[1:]:
            if rows >= self.config.max_batch_size:
                break
            if job.key != head.key:
                continue
            if rows + job.rows > self.config.max_batch_size:
                return batch, True  # too big to join: it opens a later batch, so jobs keep their order
            batch.append(job)
            rows += job.rows
        return batch, rows >= self.config.max_batch_size

    async def _form_batch(self):
        while True:
            self.pending = [job for job in self.pending if not job.future.done()]
            if not self.pending:
                return []
            batch, full = self._select()
            remaining = batch[0].queued_at + self.config.max_queue_delay_us / 1e6 - time.perf_counter()
            if full or remaining <= 0:
                break
            self.wakeup.clear()
            try:
                await asyncio.wait_for(self.wakeup.wait(), remaining)
            except asyncio.TimeoutError:
                pass
        for job in batch:
            job.taken = True
            job.timer.cancel()
        self.pending = [job for job in self.pending if not job.taken]
        return batch

    def _finished(self, batch, started, work):
        """Give each job of a finished batch its answer; whatever failed, every job of it is answered."""
        self.running.discard(work)
        self.slots.release()
        try:
            results = work.result()
            results = [results] if batch[0].key is None else results
            self.metrics.executed(
                self.model,
                len(batch),
                sum(job.rows for job in batch),
                sum(started - job.queued_at for job in batch),
                time.perf_counter() - started,
            )
            for job, result in zip(batch, results):
                if not job.future.done():
                    job.future.set_result(result)
        except asyncio.CancelledError:
            _fail(batch, ApiError(503, "the server is shutting down", retry_after(1)))
        except Exception as problem:  # noqa: BLE001 - every job of this batch learns of it, no other
            _fail(batch, problem)

    def _run_batch(self, requests):
        """In a worker thread: join the requests' rows, run the model once, give each its own rows back."""
        if len(requests) == 1:
            return [self.model.predict(requests[0])]
        joined = {name: np.concatenate([arrays[name] for arrays in requests]) for name in requests[0]}
        outputs = self.model.predict(joined)
        total = sum(next(iter(arrays.values())).shape[0] for arrays in requests)
        for name, value in outputs.items():
            if value.shape[:1] != (total,):
                raise RuntimeError(f"the model returned {value.shape[:1]} rows of {name!r} for a batch of {total}")
        results, start = [], 0
        for arrays in requests:
            count = next(iter(arrays.values())).shape[0]
            results.append({name: value[start : start + count] for name, value in outputs.items()})
            start += count
        return results

    @contextlib.contextmanager
    def held(self):
        """Mark a request as using this scheduler from the moment it took the model until its answer: a
        scheduler retired meanwhile (its version replaced, unloaded or evicted) still runs that request."""
        self.holders += 1
        try:
            yield self
        finally:
            self.holders -= 1
            self._let_threads_go()

    def retire(self, reason):
        """Refuse new requests (503 naming `reason`); those waiting, running or holding it finish, then the
        worker threads go. Used when a model version is replaced, unloaded or evicted. Called in the server's
        event loop."""
        self.closed = reason
        self._let_threads_go()

    def _let_threads_go(self, dispatcher_ending=False):
        idle = dispatcher_ending or self.dispatcher is None or self.dispatcher.done()
        if self.closed and not self.holders and idle:
            self.executor.shutdown(wait=False)  # batches submitted already still run

    async def drain(self, timeout):
        """Wait (at most `timeout` seconds) for waiting and running batches to finish."""
        tasks = set(self.running) | ({self.dispatcher} if self.dispatcher is not None else set())
        if tasks:
            await asyncio.wait(tasks, timeout=timeout)
