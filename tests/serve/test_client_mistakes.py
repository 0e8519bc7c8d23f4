"""A client's mistake is a 400 that names the field, never a 500 with internal exception text, and never a
silently wrong answer (a string "1.5" or true taken as a number, a shape whose element count wraps around)."""

import json

import numpy as np
import pytest

pytest.importorskip("uvicorn", reason="serving needs the serve extra: starlette, uvicorn")
from tests.serve.conftest import X, expected, infer_json, serve_repository  # noqa: E402


@pytest.fixture(scope="module")
def server(repository_root):
    running = serve_repository(repository_root)
    yield running
    running.stop()


def with_input(**changes):
    request = infer_json()
    request["inputs"][0].update(changes)
    return request


BINARY_HEADER = {
    "inputs": [{"name": "input", "datatype": "FP32", "shape": [1, 2, 2], "parameters": {"binary_data_size": 16}}]
}


@pytest.mark.parametrize(
    "request_body, field",
    [
        (with_input(name=["input"]), "inputs[0].name must be a string"),
        (with_input(name=7), "inputs[0].name must be a string"),
        (with_input(parameters=[1, 2]), "inputs[0].parameters must be an object"),
        ({**infer_json(), "parameters": "fast"}, "request.parameters must be an object"),
        (with_input(shape=[True, 2, 2]), "shape must be a list of non-negative integers"),
        (with_input(shape=[1, 2.0, 2]), "shape must be a list of non-negative integers"),
        (
            with_input(shape=[2**62, 2, 2], data=[]),  # 2**64 elements: an int64 product would wrap around to 0
            "data has 0 elements but shape [4611686018427387904, 2, 2] needs 18446744073709551616",
        ),
        (with_input(shape=[2**70, 2, 2]), "shape must be a list of non-negative integers"),  # not an int64
        (with_input(shape=[0, 2, 2], data=[]), "a batch of 0 rows"),
        (with_input(data=["1.5", 2.0, 3.0, 4.0]), "data of datatype FP32 must hold int or float values, found '1.5'"),
        (with_input(data=[True, 2.0, 3.0, 4.0]), "must hold int or float values, found True"),
        (with_input(data=[1.0, 2.0, 3.0, 1e39]), "NaN or infinite values"),
        (with_input(data=[{"a": 1}, 2.0, 3.0, 4.0]), "found {'a': 1}"),
        (with_input(data="1, 2, 3, 4"), "data must be a list"),
        ({"inputs": infer_json()["inputs"] * 2}, "inputs[1].name 'input' appears twice"),
        (
            {**infer_json(), "outputs": [{"name": "output", "parameters": {"binary_data": "yes"}}]},
            "outputs[0].parameters.binary_data must be true or false",
        ),
        ({**infer_json(), "outputs": [{"name": 3}]}, "outputs[0].name 3 is not an output"),
        ({**infer_json(), "id": 42}, "'id' must be a string"),
        ({**infer_json(), "parameters": {"priority": -1}}, "parameters.priority must be an integer >= 0"),
        ({**infer_json(), "parameters": {"timeout": "soon"}}, "parameters.timeout must be an integer >= 0"),
    ],
)
def test_json_mistakes_are_400_naming_the_field(server, request_body, field):
    status, _, body = server.request("POST", "/v2/models/tiny/infer", request_body)
    message = json.loads(body)["error"]
    assert status == 400 and field in message, message


def binary_request(server, header, payload, length=None):
    encoded = json.dumps(header).encode()
    return server.request(
        "POST",
        "/v2/models/tiny/infer",
        encoded + payload,
        {"Inference-Header-Content-Length": length or str(len(encoded))},
    )


@pytest.mark.parametrize(
    "size, field",
    [
        (16.0, "binary_data_size must be an integer >= 0, got 16.0"),
        (True, "binary_data_size must be an integer >= 0, got True"),
        (-16, "binary_data_size must be an integer >= 0"),
        (32, "binary_data_size 32 but shape [1, 2, 2] of FP32 needs 16 bytes"),
    ],
)
def test_binary_sizes_must_be_exact_integers(server, size, field):
    header = json.loads(json.dumps(BINARY_HEADER))
    header["inputs"][0]["parameters"]["binary_data_size"] = size
    status, _, body = binary_request(server, header, X.tobytes())
    assert status == 400 and field in json.loads(body)["error"]


def test_a_binary_size_is_checked_without_int64_wraparound(server):
    header = {
        "inputs": [{"name": "input", "datatype": "FP32", "shape": [2**62, 2, 2], "parameters": {"binary_data_size": 0}}]
    }  # 2**64 elements of 4 bytes: not 0 bytes
    status, _, body = binary_request(server, header, b"")
    assert status == 400 and "needs 73786976294838206464 bytes" in json.loads(body)["error"]


@pytest.mark.parametrize("length", ["+{}", "{}.0", "0x{}", "{}e0"])
def test_the_header_length_must_be_plain_digits(server, length):
    encoded = json.dumps(BINARY_HEADER).encode()
    status, _, body = binary_request(server, BINARY_HEADER, X.tobytes(), length.format(len(encoded)))
    assert status == 400 and "Inference-Header-Content-Length must be a decimal number" in json.loads(body)["error"]


@pytest.mark.parametrize("version", ["²", "١", "01", "1.0", "%2B1", "99999999999999999999"])
def test_versions_are_plain_ascii_positive_integers(server, version):
    from urllib.parse import quote

    status, _, body = server.request("POST", f"/v2/models/tiny/versions/{quote(version, safe='%')}/infer", infer_json())
    assert status == 400 and "invalid model version" in json.loads(body)["error"]


def test_tf_serving_rows_are_checked_like_v2_data(server):
    for rows, field in (
        ([[["1", 2.0], [3.0, 4.0]]], "must hold int or float values, found '1'"),
        ([[[True, 2.0], [3.0, 4.0]]], "found True"),
        ([[[1.0, 2.0], [3.0]]], "ragged"),
        ([], "does not match the model's"),
    ):
        status, _, body = server.request("POST", "/v1/models/tiny:predict", {"instances": rows})
        assert status == 400 and field in json.loads(body)["error"], (rows, body)


def test_the_request_id_is_echoed(server):
    status, _, body = server.request("POST", "/v2/models/tiny/infer", {**infer_json(), "id": "req-7"})
    answer = json.loads(body)
    assert status == 200 and answer["id"] == "req-7"
    np.testing.assert_allclose(answer["outputs"][0]["data"], expected(2.0).reshape(-1))


def test_integers_must_fit_their_datatype():
    from tinygrad_maas.serve.errors import ApiError
    from tinygrad_maas.serve.protocol import to_array

    with pytest.raises(ApiError, match="does not fit datatype INT8"):
        to_array([1, 300], "INT8", [2], "input 'x'")
    with pytest.raises(ApiError, match="does not fit datatype UINT64"):
        to_array([2**64], "UINT64", [1], "input 'x'")
    with pytest.raises(ApiError, match="does not fit datatype UINT8"):
        to_array([-1], "UINT8", [1], "input 'x'")
    with pytest.raises(ApiError, match="must hold int values, found 1.5"):
        to_array([1.5], "INT32", [1], "input 'x'")
    with pytest.raises(ApiError, match="must hold bool values, found 1"):
        to_array([1], "BOOL", [1], "input 'x'")
    with pytest.raises(ApiError, match="does not fit datatype FP32"):
        to_array([2**70], "FP32", [1], "input 'x'")
    np.testing.assert_array_equal(to_array([[1, 2], [3, 4]], "INT64", [2, 2], "x"), [[1, 2], [3, 4]])


def test_clean_data_converts_to_the_datatype():
    from tinygrad_maas.serve.protocol import to_array

    converted = to_array([1, 2.5, -3, 4e-3], "FP32", [2, 2], "x")
    assert converted.dtype == np.float32 and converted.tolist() == [[1.0, 2.5], [-3.0, np.float32(4e-3)]]
    assert to_array([True, False], "BOOL", [2], "x").tolist() == [True, False]
    assert to_array([255, 0], "UINT8", [2], "x").dtype == np.uint8
    assert to_array([], "INT8", [0, 3], "x").shape == (0, 3)
