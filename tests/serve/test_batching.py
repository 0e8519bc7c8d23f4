"""The per-version scheduler without HTTP: which requests share a forward pass, who gets which rows back,
and what happens to requests when something goes wrong, the queue is full or they wait too long."""

import asyncio
import threading
import time

import numpy as np
import pytest

from tinygrad_maas.serve.batching import Scheduler
from tinygrad_maas.serve.config import ModelConfig
from tinygrad_maas.serve.errors import ApiError
from tinygrad_maas.serve.metrics import Metrics


class RecordingModel:
    """Doubles its input and remembers the first column of every batch it ran."""

    name, version = "recorder", "1"

    def __init__(self, delay=0.0):
        self.batches, self.delay, self.running, self.most_at_once = [], delay, 0, 0
        self.lock = threading.Lock()

    def predict(self, arrays):
        with self.lock:
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
        time.sleep(self.delay)
        with self.lock:
            self.running -= 1
        self.batches.append(arrays["x"][:, 0].tolist())
        return {"y": arrays["x"] * 2}


def config(**changes):
    return ModelConfig(**{"max_batch_size": 4, "max_queue_delay_us": 0, **changes})


def rows(start, count, width=1):
    return {"x": np.arange(start, start + count * width, dtype=np.float32).reshape(count, width)}


def run(coroutine_factory, model=None, **changes):
    model = model or RecordingModel()

    async def main():
        scheduler = Scheduler(model, config(**changes), Metrics())
        return await coroutine_factory(scheduler)

    return asyncio.run(main()), model


def run_requests(row_counts, max_batch_size):
    """Send one request per entry of row_counts at once; rows are numbered 0, 1, 2, ... across requests."""
    requests, start = [], 0
    for count in row_counts:
        requests.append(rows(start, count))
        start += count
    answers, model = run(lambda s: asyncio.gather(*(s.infer(r) for r in requests)), max_batch_size=max_batch_size)
    for request, answer in zip(requests, answers):
        np.testing.assert_array_equal(answer["y"], request["x"] * 2)  # each gets exactly its own rows
    return model.batches


def test_queued_requests_share_one_forward_pass_up_to_max_batch_size():
    assert run_requests([1, 1, 1, 1, 1], max_batch_size=4) == [[0, 1, 2, 3], [4]]


def test_a_request_that_would_overflow_the_batch_opens_the_next_one_in_order():
    assert run_requests([3, 3, 2], max_batch_size=4) == [[0, 1, 2], [3, 4, 5], [6, 7]]


def test_a_request_larger_than_max_batch_size_runs_alone():
    assert run_requests([1, 6, 1], max_batch_size=4) == [[0], [1, 2, 3, 4, 5, 6], [7]]


def test_max_batch_size_1_runs_every_request_alone():
    assert run_requests([1, 1, 1], max_batch_size=1) == [[0], [1], [2]]


def test_only_requests_of_the_same_shape_share_a_batch_and_every_one_is_answered():
    # a signature with -1 past the batch axis: rows of width 3 and width 4 cannot be concatenated
    requests = [rows(0, 1, 3), rows(10, 1, 4), rows(20, 1, 3), rows(30, 1, 4)]
    answers, model = run(lambda s: asyncio.gather(*(s.infer(r) for r in requests)))
    for request, answer in zip(requests, answers):
        np.testing.assert_array_equal(answer["y"], request["x"] * 2)
    assert sorted(model.batches) == [[0.0, 20.0], [10.0, 30.0]]


def test_a_failing_batch_fails_only_its_requests_and_the_scheduler_keeps_serving():
    class Flaky(RecordingModel):
        def predict(self, arrays):
            if arrays["x"][0, 0] == 666:
                raise RuntimeError("broken batch")
            return super().predict(arrays)

    async def scenario(scheduler):
        bad = await asyncio.gather(scheduler.infer(rows(666, 1)), return_exceptions=True)
        good = await scheduler.infer(rows(1, 2))
        return bad, good

    (bad, good), _ = run(scenario, Flaky())
    assert isinstance(bad[0], RuntimeError) and "broken batch" in str(bad[0])
    np.testing.assert_array_equal(good["y"], [[2.0], [4.0]])


def test_a_model_returning_the_wrong_number_of_rows_is_an_error_for_that_batch():
    class Truncating(RecordingModel):
        def predict(self, arrays):
            return {"y": arrays["x"][:1]}

    requests = [rows(0, 1), rows(1, 1)]
    answers, _ = run(lambda s: asyncio.gather(*(s.infer(r) for r in requests), return_exceptions=True), Truncating())
    assert all(isinstance(a, RuntimeError) and "returned (1,) rows" in str(a) for a in answers)


def test_a_full_queue_answers_503_at_once():
    async def scenario(scheduler):
        return await asyncio.gather(*(scheduler.infer(rows(i, 1)) for i in range(4)), return_exceptions=True)

    answers, _ = run(scenario, RecordingModel(delay=0.05), max_queue_size=2, max_batch_size=1)
    refused = [a for a in answers if isinstance(a, ApiError)]
    assert len(refused) == 2 and all(a.status == 503 and "requests waiting" in a.message for a in refused)
    assert "retry-after" in refused[0].headers


def test_a_request_waiting_past_its_timeout_is_answered_when_the_timeout_passes():
    async def scenario(scheduler):
        slow = asyncio.ensure_future(scheduler.infer(rows(0, 1)))  # occupies the only instance for 0.5 s
        await asyncio.sleep(0.01)
        started = time.perf_counter()
        try:
            await scheduler.infer(rows(1, 1), timeout_us=50_000)
        except ApiError as problem:
            waited = time.perf_counter() - started
            await slow
            return problem, waited

    (problem, waited), _ = run(scenario, RecordingModel(delay=0.5), max_batch_size=1)
    assert problem.status == 503 and "longer than its timeout of 50000 us" in problem.message
    assert waited < 0.4  # answered at its deadline, not when the busy instance came free


def test_higher_priority_requests_run_first():
    async def scenario(scheduler):
        first = asyncio.ensure_future(scheduler.infer(rows(0, 1), priority=2))  # starts at once
        await asyncio.sleep(0.01)
        waiting = [scheduler.infer(rows(10 + i, 1), priority=2 - i % 2) for i in range(4)]  # 2, 1, 2, 1
        return await asyncio.gather(first, *waiting)

    _, model = run(scenario, RecordingModel(delay=0.02), max_batch_size=1, priority_levels=2)
    assert model.batches == [[0], [11], [13], [10], [12]]


def test_instance_count_bounds_the_forward_passes_running_at_once():
    async def scenario(scheduler):
        return await asyncio.gather(*(scheduler.infer(rows(i, 1)) for i in range(6)))

    _, model = run(scenario, RecordingModel(delay=0.05), max_batch_size=1, instance_count=2)
    assert model.most_at_once == 2


def test_a_retired_scheduler_finishes_its_queue_and_refuses_new_requests():
    async def scenario(scheduler):
        queued = [asyncio.ensure_future(scheduler.infer(rows(i, 1))) for i in range(3)]
        await asyncio.sleep(0)
        scheduler.retire("replaced by a newer copy")
        answers = await asyncio.gather(*queued)
        with pytest.raises(ApiError, match="replaced by a newer copy"):
            await scheduler.infer(rows(9, 1))
        return answers

    answers, _ = run(scenario, RecordingModel(delay=0.01), max_batch_size=1)
    assert [a["y"][0, 0] for a in answers] == [0.0, 2.0, 4.0]


def test_an_idle_scheduler_holds_no_task():
    async def scenario(scheduler):
        await scheduler.infer(rows(0, 1))
        await asyncio.sleep(0.01)
        return scheduler.dispatcher.done()

    done, _ = run(scenario)
    assert done


def test_a_request_that_took_the_model_before_it_was_retired_is_still_answered():
    async def scenario(scheduler):
        with scheduler.held():  # the request took this model version ...
            scheduler.retire("a newer copy of this version was loaded")  # ... which is replaced meanwhile
            return await scheduler.infer(rows(3, 1))

    answer, _ = run(scenario)
    np.testing.assert_array_equal(answer["y"], [[6.0]])
