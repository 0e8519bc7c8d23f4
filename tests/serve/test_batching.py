"""Dynamic batching without HTTP: which requests share a forward pass, and who gets which rows back."""

import asyncio

import numpy as np
import pytest

pytest.importorskip("starlette", reason="the batcher runs models in starlette's thread pool (serve extra)")
from tinygrad_maas.serve.batching import Batcher  # noqa: E402
from tinygrad_maas.serve.metrics import Metrics  # noqa: E402


class RecordingModel:
    """Doubles its input and remembers the first column of every batch it ran."""
    name, version = "recorder", "1"

    def __init__(self):
        self.batches = []

    def predict(self, arrays):
        self.batches.append(arrays["x"][:, 0].tolist())
        return {"y": arrays["x"] * 2}


def run_requests(row_counts, max_batch_size):
    """Send one request per entry of row_counts at once; rows are numbered 0, 1, 2, ... across requests."""
    model = RecordingModel()
    requests, start = [], 0
    for count in row_counts:
        requests.append({"x": np.arange(start, start + count, dtype=np.float32).reshape(count, 1)})
        start += count

    async def main():
        batcher = Batcher(model, Metrics(), max_batch_size=max_batch_size)
        answers = await asyncio.gather(*(batcher.infer(request) for request in requests))
        batcher.worker.cancel()
        return answers

    answers = asyncio.run(main())
    for request, answer in zip(requests, answers):
        np.testing.assert_array_equal(answer["y"], request["x"] * 2)  # each gets exactly its own rows
    return model.batches


def test_queued_requests_share_one_forward_pass_up_to_max_batch_size():
    assert run_requests([1, 1, 1, 1, 1], max_batch_size=4) == [[0, 1, 2, 3], [4]]


def test_a_request_that_would_overflow_the_batch_opens_the_next_one_in_order():
    assert run_requests([3, 3, 2], max_batch_size=4) == [[0, 1, 2], [3, 4, 5], [6, 7]]


def test_a_request_larger_than_max_batch_size_runs_alone():
    assert run_requests([1, 6, 1], max_batch_size=4) == [[0], [1, 2, 3, 4, 5, 6], [7]]
