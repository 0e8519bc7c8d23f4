"""The numba conv epilogue (bias + ReLU + 2 x 2 max pool, kernels/conv_epilogue.py) agrees with its NumPy
twin, and both agree with the three ops it replaces."""

import numpy as np
import pytest

from tinygrad_maas.kernels import conv_epilogue as numba_epilogue
from tinygrad_maas.reference import conv_epilogue as numpy_epilogue
from tinygrad_maas.reference import pool as numpy_pool


def _product(shape, dtype, seed=0):
    """A convolution product (O, N, H, W) with the cases that matter planted in it."""
    rng = np.random.default_rng(seed)
    conv = rng.standard_normal(shape).astype(dtype)
    conv[0, 0, 0, :2] = 3.0  # a tie in the first window: the first maximum wins
    conv[0, -1, :2, 2:4] = -5.0  # a window with nothing positive: ReLU blocks it
    conv[-1, 0, 2, 3] = np.nan  # NaN wins its window and passes ReLU
    return conv


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(3, 2, 6, 8), (4, 3, 7, 5), (2, 1, 2, 2), (5, 4, 1, 9)])
def test_bias_relu_max_pool_twins_agree_forward_and_backward(shape, dtype):
    conv = _product(shape, dtype) if shape[2] > 3 else np.random.default_rng(1).standard_normal(shape).astype(dtype)
    bias = np.linspace(-0.5, 0.5, shape[0]).astype(dtype)
    pooled_numba, where_numba = numba_epilogue.bias_relu_max_pool_2x2(conv, bias)
    pooled_numpy, where_numpy = numpy_epilogue.bias_relu_max_pool_2x2(conv, bias)
    np.testing.assert_array_equal(pooled_numba, pooled_numpy)
    np.testing.assert_array_equal(where_numba, where_numpy)
    assert pooled_numba.dtype == dtype and where_numba.dtype == np.int8
    grad = np.random.default_rng(2).standard_normal(pooled_numpy.shape).astype(dtype)
    grad_conv_numba, grad_bias_numba = numba_epilogue.bias_relu_max_pool_2x2_backward(grad, where_numba, shape)
    grad_conv_numpy, grad_bias_numpy = numpy_epilogue.bias_relu_max_pool_2x2_backward(grad, where_numpy, shape)
    np.testing.assert_array_equal(grad_conv_numba, grad_conv_numpy)
    np.testing.assert_allclose(grad_bias_numba, grad_bias_numpy, rtol=1e-6)


def test_epilogue_equals_bias_then_relu_then_max_pool():
    """pooled = max_pool(relu(conv + bias)): the one pass gives the three ops' values, NaN and ties included."""
    conv = _product((3, 2, 6, 8), np.float32)
    bias = np.array([0.25, -1.0, 0.0], dtype=np.float32)
    activation = np.maximum(conv.transpose(1, 0, 2, 3) + bias.reshape(1, -1, 1, 1), 0)
    expected, _ = numpy_pool.window_max(activation, 2, 2, 2, 2, 1, 1, 3, 4)
    pooled, where = numba_epilogue.bias_relu_max_pool_2x2(conv, bias)
    np.testing.assert_array_equal(pooled, expected)
    # conv[2, 0, 2, 3] is NaN: window (1, 1) passes it on, and blocks its gradient as ReLU does (NaN > 0 is false)
    assert np.isnan(pooled[0, 2, 1, 1]) and where[0, 2, 1, 1] == -1
    assert pooled[1, 0, 0, 1] == 0 and where[1, 0, 0, 1] == -1  # the all-negative window


def test_epilogue_backward_selects_under_infinite_gradients():
    """A blocked or non-maximal position gets exactly 0 even when the upstream gradient is inf or NaN."""
    conv = np.array([[[[1.0, 2.0], [-3.0, 0.5]]], [[[-1.0, -2.0], [-3.0, -0.5]]]], dtype=np.float32)  # (O=2, N=1)
    bias = np.zeros(2, dtype=np.float32)
    pooled, where = numba_epilogue.bias_relu_max_pool_2x2(conv, bias)
    np.testing.assert_array_equal(pooled.ravel(), [2.0, 0.0])
    np.testing.assert_array_equal(where.ravel(), [1, -1])
    grad = np.array([np.inf, np.nan], dtype=np.float32).reshape(pooled.shape)
    for module in (numba_epilogue, numpy_epilogue):
        grad_conv, grad_bias = module.bias_relu_max_pool_2x2_backward(grad, where, conv.shape)
        np.testing.assert_array_equal(grad_conv.ravel(), [0, np.inf, 0, 0, 0, 0, 0, 0])
        np.testing.assert_array_equal(grad_bias, [np.inf, 0])
