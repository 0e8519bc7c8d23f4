"""relu, its backward and a linear layer's bias + relu as numba kernels agree bit for bit with their NumPy
twins, special values included, in both builds (the calling thread alone below RELU_THREADS_FROM /
KEEP_THREADS_FROM, numba's threads above)."""

import numpy as np
import pytest

from tinygrad_maas.kernels import elementwise as numba_elementwise
from tinygrad_maas.reference import elementwise as numpy_elementwise

SPECIAL = [np.nan, np.inf, -np.inf, -0.0, 0.0, -1.0, 1.0]
SIZES = {"serial build": 1000, "threaded build": numba_elementwise.RELU_THREADS_FROM + 5}


def _with_special_values(size, dtype, seed):
    values = np.random.default_rng(seed).standard_normal(size).astype(dtype)
    values[: len(SPECIAL)] = SPECIAL
    return values


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("build", SIZES)
def test_relu_kernel_is_numpys_maximum_with_zero_bit_for_bit(build, dtype):
    x = np.repeat(_with_special_values(SIZES[build], dtype, 0), 2)[::2]  # a strided view: copied once
    y = numba_elementwise.relu(x)
    expected = numpy_elementwise.relu(x)
    assert y.dtype == dtype and y.shape == x.shape
    assert np.array_equal(y.view(np.uint8), expected.view(np.uint8))  # bit for bit: +0 for -0, nan kept
    assert np.isnan(y[0]) and y[1] == np.inf and y[2] == 0 and not np.signbit(y[3])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("build", SIZES)
def test_relu_backward_kernel_keeps_the_gradient_where_the_output_is_positive(build, dtype):
    size = SIZES[build]
    y = numpy_elementwise.relu(_with_special_values(size, dtype, 1))
    grad = _with_special_values(size, dtype, 2)[::-1].copy()  # inf and nan gradients over zero outputs
    kept = numba_elementwise.keep_positive(y, grad)
    assert np.array_equal(kept.view(np.uint8), numpy_elementwise.keep_positive(y, grad).view(np.uint8))
    blocked = ~(y > 0)
    assert not np.any(kept[blocked]) and np.array_equal(kept[~blocked], grad[~blocked], equal_nan=True)


def test_relu_kernels_take_empty_and_zero_dimensional_arrays():
    empty = np.zeros((0, 3), dtype=np.float32)
    assert numba_elementwise.relu(empty).shape == (0, 3)
    assert numba_elementwise.keep_positive(empty, empty).shape == (0, 3)
    assert numba_elementwise.relu(np.array(-2.0)).shape == () and numba_elementwise.relu(np.array(-2.0)) == 0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("build", SIZES)
def test_bias_relu_kernel_is_the_sum_then_relu_bit_for_bit(build, dtype):
    """In place, as LinearRelu uses it: rows = max(rows + bias, 0), the same bits as the two ops, special
    values in both the rows and the bias (inf + -inf gives nan, kept)."""
    width = 100
    size = -(-SIZES[build] // width) * width  # whole rows, at least SIZES[build] elements
    rows = _with_special_values(size, dtype, 3).reshape(-1, width)
    assert (rows.size >= numba_elementwise.RELU_THREADS_FROM) == (build == "threaded build")
    bias = _with_special_values(width, dtype, 4)[::-1].copy()
    expected = numpy_elementwise.relu(rows + bias)
    out = numba_elementwise.bias_relu_(rows, bias)
    assert out is rows
    assert np.array_equal(rows.view(np.uint8), expected.view(np.uint8))
    twin = _with_special_values(size, dtype, 3).reshape(-1, width)
    assert np.array_equal(numpy_elementwise.bias_relu_(twin, bias).view(np.uint8), expected.view(np.uint8))
    assert numba_elementwise.bias_relu_(np.zeros((0, width), dtype), bias).shape == (0, width)
