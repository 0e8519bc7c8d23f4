"""Dynamic batching: concurrent requests for one model become one forward pass.

The first waiting request opens a batch; every request already queued joins it at once, and more may
join until the batch holds max_batch_size rows or max_queue_delay_us has passed since it opened. With the
default delay of 0 (as Triton's) nothing waits idle: while one batch runs, the next one queues up. A
request that would overflow the batch opens the next one, so requests run in the order they came. A
request of more than max_batch_size rows runs alone. The rows are concatenated along the batch dimension, the
model runs once (in a worker thread), and each request gets back exactly its own slice of the outputs.
"""

import asyncio
import time

import numpy as np


class Batcher:
    def __init__(self, model, metrics, max_batch_size=32, max_queue_delay_us=0):
        self.model, self.metrics = model, metrics
        self.max_batch_size, self.max_delay = max_batch_size, max_queue_delay_us / 1e6
        self.queue = None  # created in the server's event loop, on first use
        self.worker = None

    async def infer(self, arrays):
        """Queue one request's inputs; returns its outputs (its rows only)."""
        if self.queue is None:
            self.queue = asyncio.Queue()
            self.worker = asyncio.get_running_loop().create_task(self._run())
        future = asyncio.get_running_loop().create_future()
        await self.queue.put((arrays, future, time.perf_counter()))
        return await future

    async def _run(self):
        from starlette.concurrency import run_in_threadpool

        carried = None  # a request that did not fit into the last batch opens the next one
        while True:
            first = carried if carried is not None else await self.queue.get()
            carried = None
            batch = [first]
            rows = _rows(first[0])
            deadline = first[2] + self.max_delay
            while rows < self.max_batch_size:
                try:
                    item = self.queue.get_nowait()  # whatever is queued already joins at once
                except asyncio.QueueEmpty:
                    remaining = deadline - time.perf_counter()
                    if remaining <= 0:
                        break
                    try:
                        item = await asyncio.wait_for(self.queue.get(), remaining)
                    except asyncio.TimeoutError:
                        break
                if rows + _rows(item[0]) > self.max_batch_size:
                    carried = item  # too big to join: requests run in the order they came
                    break
                batch.append(item)
                rows += _rows(item[0])
            await self._execute(batch, run_in_threadpool)

    async def _execute(self, batch, run_in_threadpool):
        started = time.perf_counter()
        names = list(batch[0][0])
        joined = {name: np.concatenate([arrays[name] for arrays, _, _ in batch]) for name in names}
        try:
            outputs = await run_in_threadpool(self.model.predict, joined)
        except Exception as problem:  # noqa: BLE001 - every waiting request learns of it
            for _, future, _ in batch:
                if not future.done():
                    future.set_exception(problem)
            return
        finished = time.perf_counter()
        self.metrics.executed(self.model, len(batch), sum(_rows(a) for a, _, _ in batch),
                              sum(started - queued for _, _, queued in batch), finished - started)
        start = 0
        for arrays, future, _ in batch:
            count = _rows(arrays)
            if not future.done():
                future.set_result({name: value[start:start + count] for name, value in outputs.items()})
            start += count


def _rows(arrays):
    return next(iter(arrays.values())).shape[0]
