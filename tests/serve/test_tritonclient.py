"""The stock tritonclient.http client, with its defaults, against our server (skipped without it:
pip install "tritonclient[http]")."""

import numpy as np
import pytest

pytest.importorskip("uvicorn", reason="serving needs the serve extra: starlette, uvicorn")
httpclient = pytest.importorskip("tritonclient.http", reason='needs pip install "tritonclient[http]"')

from tests.serve.conftest import X, expected, serve_repository  # noqa: E402


@pytest.fixture(scope="module")
def client(repository_root):
    running = serve_repository(repository_root)
    yield httpclient.InferenceServerClient(url=f"127.0.0.1:{running.port}")
    running.stop()


def test_liveness_readiness_and_metadata(client):
    assert client.is_server_live() and client.is_server_ready()
    assert client.is_model_ready("tiny") and client.is_model_ready("tiny", "1")
    metadata = client.get_model_metadata("tiny")
    assert metadata["inputs"][0]["shape"] == [-1, 2, 2] and metadata["versions"] == ["1", "2"]


def test_infer_with_binary_inputs_and_outputs(client):
    tensor = httpclient.InferInput("input", list(X.shape), "FP32")
    tensor.set_data_from_numpy(X, binary_data=True)
    result = client.infer("tiny", [tensor], outputs=[httpclient.InferRequestedOutput("output", binary_data=True)])
    np.testing.assert_allclose(result.as_numpy("output"), expected(2.0), rtol=1e-6)


def test_infer_with_the_clients_defaults_and_a_version(client):
    tensor = httpclient.InferInput("input", list(X.shape), "FP32")
    tensor.set_data_from_numpy(X)
    result = client.infer("tiny", [tensor], model_version="1")
    np.testing.assert_allclose(result.as_numpy("output"), expected(1.0), rtol=1e-6)
