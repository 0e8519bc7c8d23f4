"""Scheduling over HTTP: requests that cannot share a batch, queue timeouts, queue bounds, per-model
config.json, and a server that stops in bounded time whatever its queues hold."""

import json
import threading
import time

import numpy as np
import pytest

pytest.importorskip("uvicorn", reason="serving needs the serve extra: starlette, uvicorn")
import tinygrad_maas.nn as nn  # noqa: E402
from tinygrad_maas.nn.architecture import save_model  # noqa: E402

WIDE = {
    "signature": {
        "inputs": [{"name": "input", "datatype": "FP32", "shape": [-1, -1]}],
        "outputs": [{"name": "output", "datatype": "FP32", "shape": [-1, -1]}],
    }
}


def request(width, rows=1, start=0.0):
    data = (np.arange(rows * width, dtype=np.float32) / 10 + start).reshape(rows, width)
    return data, {
        "inputs": [{"name": "input", "datatype": "FP32", "shape": [rows, width], "data": data.reshape(-1).tolist()}]
    }


def concurrently(server, path, bodies):
    answers = [None] * len(bodies)

    def send(i):
        answers[i] = server.request("POST", path, bodies[i])

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(bodies))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return answers


@pytest.fixture(scope="module")
def wide_root(tmp_path_factory):
    """A model taking rows of any width (tanh of each value): a -1 past the batch axis."""
    root = tmp_path_factory.mktemp("wide")
    save_model(nn.Sequential(nn.Tanh()), root / "wide" / "1", metadata=WIDE)
    return root


def test_requests_of_different_widths_are_all_answered_and_the_model_keeps_answering(wide_root, start_server):
    server = start_server(wide_root, max_batch_size=8, max_queue_delay_us=300_000)  # all queue together
    cases = [request(width, start=i) for i, width in enumerate([3, 4, 3, 5, 4])]
    answers = concurrently(server, "/v2/models/wide/infer", [body for _, body in cases])
    for (data, _), (status, _, body) in zip(cases, answers):
        assert status == 200, body
        output = json.loads(body)["outputs"][0]
        np.testing.assert_allclose(np.reshape(output["data"], output["shape"]), np.tanh(data), rtol=1e-6)
    data, body = request(6)
    status, _, answer = server.request("POST", "/v2/models/wide/infer", body)
    assert status == 200 and json.loads(answer)["outputs"][0]["shape"] == [1, 6]
    assert server.request("GET", "/v2/models/wide/ready")[0] == 200


def test_a_request_past_its_queue_timeout_is_answered_503(wide_root, start_server, monkeypatch):
    server = start_server(wide_root, max_batch_size=1)
    model = server.repository.resolve("wide").model
    slow_predict = model.predict

    def slow(arrays):
        time.sleep(0.6)
        return slow_predict(arrays)

    monkeypatch.setattr(model, "predict", slow)
    _, first = request(3)
    _, second = request(3)
    second["parameters"] = {"timeout": 100_000}  # 0.1 s, while the first request takes 0.6 s
    answers = []
    sender = threading.Thread(target=lambda: answers.append(server.request("POST", "/v2/models/wide/infer", first)))
    sender.start()
    time.sleep(0.2)  # the first one is running now
    status, headers, body = server.request("POST", "/v2/models/wide/infer", second)
    sender.join()
    assert status == 503 and "longer than its timeout of 100000 us" in json.loads(body)["error"]
    assert "retry-after" in headers and answers[0][0] == 200


def test_config_json_sets_the_models_queue_and_a_bad_one_names_its_field(tmp_path, start_server):
    root = tmp_path / "configured"
    save_model(nn.Sequential(nn.Tanh()), root / "strict" / "1", metadata=WIDE)
    save_model(nn.Sequential(nn.Tanh()), root / "typo" / "1", metadata=WIDE)
    (root / "strict" / "config.json").write_text(
        json.dumps(
            {
                "max_batch_size": 1,
                "dynamic_batching": {"default_queue_policy": {"max_queue_size": 1}},
                "instance_group": [{"count": 1, "kind": "KIND_CPU"}],
            }
        )
    )
    (root / "typo" / "config.json").write_text(json.dumps({"max_batch_sise": 4}))
    server = start_server(root)
    config = server.repository.resolve("strict").model.scheduler.config
    assert (config.max_batch_size, config.max_queue_size, config.instance_count) == (1, 1, 1)
    index = {entry["name"]: entry for entry in json.loads(server.request("POST", "/v2/repository/index", b"{}")[2])}
    assert index["strict"]["state"] == "READY" and index["typo"]["state"] == "UNAVAILABLE"
    assert "unsupported field(s) ['max_batch_sise']" in index["typo"]["reason"]
    status, _, body = server.request("POST", "/v2/models/typo/infer", request(3)[1])
    assert status == 503 and "max_batch_sise" in json.loads(body)["error"]


def test_a_full_queue_is_503_for_the_overflow_only(wide_root, start_server, monkeypatch):
    server = start_server(wide_root, max_batch_size=1, max_queue_size=2)
    model = server.repository.resolve("wide").model
    slow_predict = model.predict
    monkeypatch.setattr(model, "predict", lambda arrays: (time.sleep(0.3), slow_predict(arrays))[1])
    answers = concurrently(server, "/v2/models/wide/infer", [request(3)[1] for _ in range(6)])
    statuses = sorted(status for status, _, _ in answers)
    assert statuses.count(200) >= 3 and set(statuses) <= {200, 503} and 503 in statuses


def test_the_server_stops_within_its_shutdown_timeout_even_with_a_hung_model(wide_root, start_server, monkeypatch):
    server = start_server(wide_root, shutdown_timeout=1.0, request_timeout=30.0)
    model = server.repository.resolve("wide").model
    monkeypatch.setattr(model, "predict", lambda arrays: time.sleep(20))
    sender = threading.Thread(target=lambda: server.request("POST", "/v2/models/wide/infer", request(3)[1], timeout=30))
    sender.start()
    time.sleep(0.3)
    started = time.monotonic()
    server.server.should_exit = True
    server.thread.join(timeout=15)
    assert not server.thread.is_alive() and time.monotonic() - started < 10
