"""The server, started for real (uvicorn on a free loopback port) and spoken to over HTTP."""

import json
import threading
import time

import numpy as np
import pytest

pytest.importorskip("uvicorn", reason="serving needs the serve extra: starlette, uvicorn")
from tests.serve.conftest import TOKEN, X, expected, infer_json, metric, serve_repository, write_model  # noqa: E402
from tinygrad_maas.serve.auth import AccessControl  # noqa: E402


@pytest.fixture(scope="module")
def server(repository_root):
    running = serve_repository(repository_root, max_body_bytes=4096)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def secured(repository_root):
    running = serve_repository(repository_root, access=AccessControl.from_token(TOKEN))
    yield running
    running.stop()


def test_health_server_and_model_metadata(server):
    assert server.request("GET", "/v2/health/live")[0] == 200
    assert server.request("GET", "/v2/health/ready")[0] == 200
    status, _, body = server.request("GET", "/v2")
    assert status == 200 and "binary_tensor_data" in json.loads(body)["extensions"]
    metadata = json.loads(server.request("GET", "/v2/models/tiny")[2])
    assert metadata["versions"] == ["1", "2"]
    assert metadata["inputs"] == [{"name": "input", "datatype": "FP32", "shape": [-1, 2, 2]}]
    assert metadata["outputs"] == [{"name": "output", "datatype": "FP32", "shape": [-1, 3]}]
    assert server.request("GET", "/v2/models/tiny/versions/1/ready")[0] == 200


def test_json_inference_uses_the_latest_version_or_the_one_asked_for(server):
    status, _, body = server.request("POST", "/v2/models/tiny/infer", infer_json())
    answer = json.loads(body)
    assert status == 200 and answer["model_version"] == "2"
    assert answer["outputs"][0]["shape"] == [1, 3]
    np.testing.assert_allclose(answer["outputs"][0]["data"], expected(2.0).reshape(-1))
    answer = json.loads(server.request("POST", "/v2/models/tiny/versions/1/infer", infer_json())[2])
    np.testing.assert_allclose(answer["outputs"][0]["data"], expected(1.0).reshape(-1))


def test_nested_data_is_accepted(server):
    request = infer_json()
    request["inputs"][0]["data"] = X.tolist()
    assert server.request("POST", "/v2/models/tiny/infer", request)[0] == 200


def test_binary_inputs_and_outputs(server):
    header = json.dumps(
        {
            "inputs": [
                {"name": "input", "datatype": "FP32", "shape": [1, 2, 2], "parameters": {"binary_data_size": 16}}
            ],
            "outputs": [{"name": "output", "parameters": {"binary_data": True}}],
        }
    ).encode()
    status, headers, body = server.request(
        "POST",
        "/v2/models/tiny/infer",
        header + X.astype("<f4").tobytes(),
        {"Inference-Header-Content-Length": str(len(header)), "Content-Type": "application/octet-stream"},
    )
    assert status == 200
    size = int({k.lower(): v for k, v in headers.items()}["inference-header-content-length"])
    answer = json.loads(body[:size])
    assert answer["outputs"][0]["parameters"]["binary_data_size"] == 12
    np.testing.assert_allclose(np.frombuffer(body[size:], "<f4").reshape(1, 3), expected(2.0))


def test_tf_serving_rest(server):
    status, _, body = server.request("GET", "/v1/models/tiny")
    assert status == 200 and [s["version"] for s in json.loads(body)["model_version_status"]] == ["1", "2"]
    status, _, body = server.request("POST", "/v1/models/tiny:predict", {"instances": X.tolist()})
    np.testing.assert_allclose(json.loads(body)["predictions"], expected(2.0))
    status, _, body = server.request("POST", "/v1/models/tiny/versions/1:predict", {"inputs": X.tolist()})
    np.testing.assert_allclose(json.loads(body)["outputs"], expected(1.0))


@pytest.mark.parametrize(
    "request_body, message",
    [
        (infer_json(datatype="FP64"), "datatype 'FP64' does not match the model's 'FP32'"),
        (infer_json(shape=[1, 4]), "shape [1, 4] does not match the model's [-1, 2, 2]"),
        (infer_json(name="pixels"), "'pixels' is not an input of the model"),
        (
            {"inputs": [{"name": "input", "datatype": "FP32", "shape": [2, 2, 2], "data": [1.0] * 4}]},
            "data has 4 elements but shape [2, 2, 2] needs 8",
        ),
        ({"inputs": []}, "'inputs' must be a non-empty list"),
    ],
)
def test_bad_requests_are_400_naming_the_field(server, request_body, message):
    status, _, body = server.request("POST", "/v2/models/tiny/infer", request_body)
    assert status == 400 and message in json.loads(body)["error"]


def test_unknown_models_versions_and_path_escapes(server):
    assert server.request("POST", "/v2/models/nope/infer", infer_json())[0] == 404
    assert server.request("POST", "/v2/models/tiny/versions/9/infer", infer_json())[0] == 404
    status, _, body = server.request("GET", "/v2/models/..%2F..%2Fetc")
    assert status in (400, 404) and "error" in json.loads(body)
    status, _, body = server.request("GET", "/v2/models/tiny/versions/..")
    assert status in (400, 404)


def test_oversized_body_is_413(server):
    status, _, body = server.request("POST", "/v2/models/tiny/infer", b"x" * 5000)
    assert status == 413 and "exceeds the limit" in json.loads(body)["error"]


def test_bearer_token(secured):
    assert secured.request("GET", "/v2/health/live")[0] == 200  # health stays open
    status, _, body = secured.request("GET", "/v2/models/tiny")
    assert status == 401 and "bearer token" in json.loads(body)["error"]
    assert secured.request("GET", "/v2/models/tiny", token="wrong")[0] == 401
    assert secured.request("POST", "/v2/models/tiny/infer", infer_json(), token=TOKEN)[0] == 200


def test_refuses_a_public_address_without_a_token(repository_root):
    from tinygrad_maas.serve import serve

    with pytest.raises(ValueError, match="refusing to listen on 0.0.0.0 without access control"):
        serve(str(repository_root), host="0.0.0.0")


def test_export_adds_a_new_version(tmp_path, repository_root):
    from tinygrad_maas.__main__ import main

    repository = tmp_path / "repo"
    assert main(["export", str(repository_root / "tiny" / "2"), "--repository", str(repository), "--name", "m"]) == 0
    assert main(["export", str(repository_root / "tiny" / "1"), "--repository", str(repository), "--name", "m"]) == 0
    assert sorted(p.name for p in (repository / "m").iterdir()) == ["1", "2"]
    assert main(["export", str(repository_root / "tiny" / "1"), "--repository", str(repository), "--name", "../x"]) == 2


def _concurrent(server, requests):
    results = [None] * len(requests)

    def send(index, body):
        results[index] = server.request("POST", "/v2/models/tiny/infer", body)

    threads = [threading.Thread(target=send, args=(i, body)) for i, body in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_concurrent_requests_are_batched_and_each_gets_its_own_rows(repository_root):
    running = serve_repository(repository_root, max_batch_size=64, max_queue_delay_us=200_000)
    try:
        rng = np.random.default_rng(0)
        samples = [rng.standard_normal((1 + i % 3, 2, 2)).astype(np.float32) for i in range(12)]
        results = _concurrent(running, [infer_json(s) for s in samples])
        weights = (np.arange(12, dtype=np.float32).reshape(3, 4) * 2.0).T
        for sample, (status, _, body) in zip(samples, results):
            assert status == 200
            output = json.loads(body)["outputs"][0]
            assert output["shape"] == [len(sample), 3]
            np.testing.assert_allclose(
                np.reshape(output["data"], output["shape"]), sample.reshape(-1, 4) @ weights, rtol=1e-5
            )
        executions = metric(running, "nv_inference_exec_count")
        assert executions < len(samples)  # fewer forward passes than requests
        assert metric(running, "nv_inference_count") == sum(len(s) for s in samples)
        assert metric(running, "nv_inference_request_success") == len(samples)
    finally:
        running.stop()


def test_metrics_count_failures_too(server):
    before = metric(server, "nv_inference_request_failure")
    server.request("POST", "/v2/models/tiny/infer", infer_json(datatype="INT64"))
    assert metric(server, "nv_inference_request_failure") == before + 1
    text = server.request("GET", "/metrics")[2].decode()
    assert "# TYPE nv_inference_exec_count counter" in text


def test_a_new_version_is_loaded_while_running(tmp_path, repository_root):
    import shutil

    root = tmp_path / "live"
    shutil.copytree(repository_root, root)
    running = serve_repository(root, poll_seconds=0.2)
    try:
        write_model(root, "tiny", 3, 3.0)
        deadline = time.time() + 15
        while json.loads(running.request("GET", "/v2/models/tiny")[2])["versions"] != ["1", "2", "3"]:
            assert time.time() < deadline, "version 3 was not loaded"
            time.sleep(0.1)
        answer = json.loads(running.request("POST", "/v2/models/tiny/infer", infer_json())[2])
        assert answer["model_version"] == "3"
        np.testing.assert_allclose(answer["outputs"][0]["data"], expected(3.0).reshape(-1))
    finally:
        running.stop()


def test_the_home_page_is_static_and_the_models_it_lists_come_from_the_api(tmp_path, start_server):
    import tinygrad_maas.nn as nn
    from tinygrad_maas.nn.architecture import save_model

    root = tmp_path / "pages"
    save_model(
        nn.Sequential(nn.Flatten(), nn.Linear(784, 10)), root / "digits" / "1", metadata={"input_shape": [1, 28, 28]}
    )
    save_model(nn.Sequential(nn.Linear(3, 2)), root / "other" / "1", metadata={"input_shape": [3]})
    running = start_server(root)
    status, headers, body = running.request("GET", "/")
    page = body.decode()
    assert status == 200 and "text/html" in headers["content-type"]
    assert "digits" not in page and "other" not in page  # no model data is ever written into the page
    assert 'DIGIT_LAYOUTS = ["1,28,28", "28,28,1", "28,28", "784"]' in page and "textContent" in page
    assert json.loads(running.request("GET", "/v1/models")[2]) == {"models": ["digits", "other"]}
    metadata = json.loads(running.request("GET", "/v2/models/digits")[2])
    assert metadata["inputs"] == [{"name": "input", "datatype": "FP32", "shape": [-1, 1, 28, 28]}]


def test_shutting_down_lets_an_in_flight_request_finish(repository_root):
    # a long batching delay keeps the request in flight while the server is asked to stop
    running = serve_repository(repository_root, max_batch_size=64, max_queue_delay_us=500_000)
    answers = []
    sender = threading.Thread(
        target=lambda: answers.append(running.request("POST", "/v2/models/tiny/infer", infer_json()))
    )
    sender.start()
    time.sleep(0.2)
    running.server.should_exit = True
    sender.join(timeout=20)
    running.thread.join(timeout=20)
    status, _, body = answers[0]
    assert status == 200
    np.testing.assert_allclose(json.loads(body)["outputs"][0]["data"], expected(2.0).reshape(-1))


def test_not_ready_is_503_and_an_internal_failure_is_500(tmp_path, repository_root, start_server):
    empty = tmp_path / "empty"
    empty.mkdir()
    status, _, body = start_server(empty).request("GET", "/v2/health/ready")
    assert status == 503 and json.loads(body) == {"ready": False}
    running = start_server(repository_root, max_batch_size=1)
    model = running.repository.resolve("tiny", "1").model

    def broken(arrays):
        raise RuntimeError("the disk caught fire")

    model.predict = broken
    status, _, body = running.request("POST", "/v2/models/tiny/versions/1/infer", infer_json())
    assert status == 500 and "the disk caught fire" in json.loads(body)["error"]
    assert running.request("POST", "/v2/models/tiny/versions/2/infer", infer_json())[0] == 200  # the others answer


def test_non_finite_inputs_are_400_in_json_and_binary_form(server):
    status, _, body = server.request(
        "POST",
        "/v2/models/tiny/infer",
        b'{"inputs": [{"name": "input", "datatype": "FP32", "shape": [1, 2, 2], "data": [1.0, NaN, 3.0, 4.0]}]}',
    )
    assert status == 400 and "error" in json.loads(body)  # NaN is not JSON; the stdlib parser lets it through
    header = json.dumps(
        {"inputs": [{"name": "input", "datatype": "FP32", "shape": [1, 2, 2], "parameters": {"binary_data_size": 16}}]}
    ).encode()
    values = np.array([1.0, np.inf, 3.0, 4.0], dtype="<f4").tobytes()
    status, _, body = server.request(
        "POST", "/v2/models/tiny/infer", header + values, {"Inference-Header-Content-Length": str(len(header))}
    )
    assert status == 400 and "NaN or infinite" in json.loads(body)["error"]


@pytest.mark.parametrize(
    "flag, value, message",
    [
        (
            "--poll-seconds",
            "-1",
            "poll_seconds must be a positive number, got -1.0 (to stop polling, use model_control_mode 'none')",
        ),
        ("--poll-seconds", "0", "poll_seconds must be a positive number"),
        ("--header-timeout", "0", "header_timeout must be a positive number"),
        ("--max-queue-delay-us", "-5", "max_queue_delay_us must be a non-negative integer"),
    ],
)
def test_serve_refuses_limits_that_would_busy_loop_or_never_wait(repository_root, capsys, flag, value, message):
    from tinygrad_maas.__main__ import main

    assert main(["serve", "--model-repository", str(repository_root), flag, value]) == 2
    assert message in capsys.readouterr().err


def test_serve_refuses_a_public_address_without_access_control_from_the_command_line(repository_root, capsys, tmp_path):
    from tinygrad_maas.__main__ import main

    assert main(["serve", "--model-repository", str(repository_root), "--host", "0.0.0.0"]) == 2
    assert "refusing to listen on 0.0.0.0 without access control" in capsys.readouterr().err
    (tmp_path / "token").write_text("short\n")
    assert main(["serve", "--model-repository", str(repository_root), "--token-file", str(tmp_path / "token")]) == 2
    assert "at least 16 characters" in capsys.readouterr().err


def test_unknown_paths_and_methods_are_json_404_and_405(server):
    status, headers, body = server.request("GET", "/v3/nothing")
    assert status == 404 and json.loads(body) == {"error": "no endpoint GET /v3/nothing"}
    status, headers, body = server.request("DELETE", "/v2/models/tiny/infer")
    assert status == 405 and headers["allow"] == "POST" and "DELETE is not allowed here" in json.loads(body)["error"]


def test_a_keras_model_saved_with_model_save_is_served(tmp_path, start_server):
    from tinygrad_maas import keras

    model = keras.Sequential([keras.layers.Dense(4, activation="relu", input_shape=(3,)), keras.layers.Dense(2)])
    model.save(str(tmp_path / "repo" / "k" / "1"))
    running = start_server(tmp_path / "repo")
    x = np.array([[0.5, -1.0, 2.0], [1.0, 0.0, -0.5]], dtype=np.float32)
    status, _, body = running.request("POST", "/v2/models/k/infer", infer_json(x))
    output = json.loads(body)["outputs"][0]
    assert status == 200 and output["shape"] == [2, 2]
    np.testing.assert_allclose(np.reshape(output["data"], (2, 2)), model.predict(x), rtol=1e-6)
