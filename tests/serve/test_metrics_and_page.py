"""What an operator reads: Prometheus counters that count every endpoint's requests the same way, a page
that a model file cannot inject into, and an OpenAPI document that covers every endpoint."""

import json

import numpy as np
import pytest

pytest.importorskip("uvicorn", reason="serving needs the serve extra: starlette, uvicorn")
from tests.serve.conftest import infer_json, metric, write_model  # noqa: E402

HOSTILE = "</script><script>alert(1)</script>"


def test_tf_serving_requests_are_counted_as_successes_and_failures(repository_root, start_server):
    server = start_server(repository_root)
    assert server.request("POST", "/v1/models/tiny:predict", {"instances": [[[1, 2], [3, 4]]]})[0] == 200
    assert server.request("POST", "/v1/models/tiny:predict", {"instances": [[["a", 2], [3, 4]]]})[0] == 400
    assert metric(server, "nv_inference_request_success") == 1
    assert metric(server, "nv_inference_request_failure") == 1


def test_a_500_is_counted_as_a_failure_not_a_success(repository_root, start_server, monkeypatch):
    server = start_server(repository_root)
    model = server.repository.resolve("tiny").model
    monkeypatch.setattr(model, "predict", lambda arrays: {"output": np.full((1, 3), np.nan, np.float32)})
    status, _, body = server.request("POST", "/v1/models/tiny:predict", {"instances": [[[1, 2], [3, 4]]]})
    assert status == 500 and "NaN or infinite" in json.loads(body)["error"]
    status, _, _ = server.request("POST", "/v2/models/tiny/infer", infer_json())
    assert status == 500
    assert metric(server, "nv_inference_request_success") == 0
    assert metric(server, "nv_inference_request_failure") == 2


def test_rejections_are_counted_by_reason(tmp_path, start_server):
    from tinygrad_maas.serve.auth import AccessControl

    tokens = tmp_path / "tokens.json"
    tokens.write_text(
        json.dumps(
            {
                "tenants": {
                    "limited": {"token": "l" * 16, "rate_per_second": 1, "burst": 1},
                    "ops": {"token": "o" * 16, "scopes": ["admin"]},
                }
            }
        )
    )
    write_model(tmp_path / "repo", "tiny", 1, 1.0)
    server = start_server(tmp_path / "repo", access=AccessControl.from_file(tokens))
    statuses = [server.request("GET", "/v2/models/tiny", token="l" * 16)[0] for _ in range(3)]
    assert statuses[0] == 200 and statuses.count(429) >= 1
    text = server.request("GET", "/metrics", token="o" * 16)[2].decode()
    assert f'tinygrad_maas_rejected_requests_total{{reason="rate_limited"}} {statuses.count(429)}' in text


def test_the_page_never_carries_what_a_model_file_says(tmp_path, start_server):
    root = tmp_path / "repo"
    hostile = {
        "signature": {
            "inputs": [{"name": HOSTILE, "datatype": "FP32", "shape": [-1, 2, 2]}],
            "outputs": [{"name": "output", "datatype": "FP32", "shape": [-1, 3]}],
        }
    }
    write_model(root, "evil", 1, 1.0, metadata=hostile)
    write_model(root, "tiny", 1, 1.0)
    server = start_server(root)
    status, headers, body = server.request("GET", "/")
    assert status == 200 and HOSTILE not in body.decode() and "<script" not in body.decode().split("<script>", 1)[1]
    assert "content-security-policy" in headers
    status, _, body = server.request("GET", "/v2/models/evil")
    assert status == 503 and "signature.inputs[0].name must be" in json.loads(body)["error"]


def test_the_openapi_document_describes_every_endpoint(repository_root, start_server):
    from tinygrad_maas.serve.openapi import document

    server = start_server(repository_root, model_control_mode="explicit")
    described = json.loads(server.request("GET", "/openapi.json")[2])
    assert described == document(model_control=True) and described["openapi"].startswith("3.0")
    served = {route.path for route in server.server.config.app.routes} - {"/", "/openapi.json"}
    served.discard("/v1/models/{target:path}")  # documented as its two verbs below
    assert served <= set(described["paths"])
    for verb in (":predict", ":explain"):
        assert "/v1/models/{model}" + verb in described["paths"]
    assert "/v2/repository/models/{model}/load" not in document(model_control=False)["paths"]


def test_the_pages_script_is_valid_javascript(tmp_path):
    import shutil
    import subprocess

    from tinygrad_maas.serve.page import PAGE

    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed: the page's script is not parsed")
    script = tmp_path / "page.js"
    script.write_text(PAGE.split("<script>", 1)[1].split("</script>", 1)[0])
    checked = subprocess.run([node, "--check", str(script)], capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stderr
    for feature in ("similarityPad", "generationPad", "/v1/embeddings", "/v1/completions", "digitPad"):
        assert feature in PAGE
