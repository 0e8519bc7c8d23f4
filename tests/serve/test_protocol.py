"""The protocol's JSON handling gives the same answers with orjson (the serve extra) and without it."""

import numpy as np
import pytest

from tinygrad_maas.serve import protocol
from tinygrad_maas.serve.protocol import ApiError, decode_inputs, encode_response, split_body

SIGNATURE = [{"name": "input", "datatype": "FP32", "shape": [-1, 3]}]
BODY = b'{"inputs": [{"name": "input", "datatype": "FP32", "shape": [2, 3], "data": [1, 2.5, -3, 4e-3, 5, 6]}]}'


@pytest.fixture(params=["orjson", "stdlib json"])
def parser(request, monkeypatch):
    if request.param == "orjson":
        pytest.importorskip("orjson")
    else:
        monkeypatch.setattr(protocol, "orjson", None)
    return request.param


def test_a_json_request_decodes_to_the_same_array(parser):
    request, binary = split_body(BODY, None)
    arrays = decode_inputs(request, binary, SIGNATURE)
    np.testing.assert_array_equal(arrays["input"], np.array([[1, 2.5, -3], [4e-3, 5, 6]], dtype=np.float32))
    assert arrays["input"].dtype == np.float32


def test_the_response_is_the_same_json(parser):
    outputs = {"output": np.array([[0.5, -1.0]], dtype=np.float32)}
    content, headers = encode_response("m", "1", outputs, {"output": False})
    assert headers == {"content-type": "application/json"}
    assert protocol.json_loads(content) == {
        "model_name": "m",
        "model_version": "1",
        "outputs": [{"name": "output", "datatype": "FP32", "shape": [1, 2], "data": [0.5, -1.0]}],
    }


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b"\xff\xfe"])
def test_invalid_json_is_a_400(parser, body):
    with pytest.raises(ApiError) as caught:
        split_body(body, None)
    assert caught.value.status == 400


def test_a_non_finite_output_in_json_is_an_error_that_names_the_way_out(parser):
    outputs = {"output": np.array([[np.nan, 1.0]], dtype=np.float32)}
    with pytest.raises(ApiError) as caught:
        encode_response("m", "1", outputs, {"output": False})
    assert caught.value.status == 500 and "'output' contains NaN" in caught.value.message
    assert "binary_data" in caught.value.message
    content, headers = encode_response("m", "1", outputs, {"output": True})
    size = int(headers["inference-header-content-length"])
    assert np.isnan(np.frombuffer(content[size:], "<f4")[0])  # the binary form carries NaN as it is
