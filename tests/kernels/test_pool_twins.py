"""The numba pooling kernels agree with their NumPy twins (reference/pool.py)."""

import numpy as np
import pytest

from tinygrad_maas.kernels import pool as numba_pool
from tinygrad_maas.ops.pool import adaptive_windows, average_pool_windows
from tinygrad_maas.reference import pool as numpy_pool

# padded input shape, kernel, stride, dilation
MAX_GEOMETRIES = [
    ((2, 3, 7, 6), (2, 2), (2, 2), (1, 1)),
    ((1, 2, 9, 9), (3, 3), (1, 2), (2, 1)),
    ((3, 1, 5, 8), (1, 4), (2, 3), (1, 1)),
    ((2, 2, 6, 9), (2, 2), (2, 2), (1, 1)),  # MaxPool2d(2) has its own kernel; an odd width leaves a column
    ((1, 2, 13, 13), (12, 11), (1, 1), (1, 1)),  # 132 positions in a window: int32, not int8
]


def _out(size, kernel, stride, dilation):
    return (size - dilation * (kernel - 1) - 1) // stride + 1


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape, kernel, stride, dilation", MAX_GEOMETRIES)
def test_window_max_twins_agree_forward_and_backward(shape, kernel, stride, dilation, dtype):
    rng = np.random.default_rng(0)
    padded = rng.standard_normal(shape).astype(dtype)
    padded[0, 0, 0, :2] = 7.0  # a tie: both must pick the first maximum
    padded[-1, -1, 1, 1] = np.nan  # NaN propagates, as in PyTorch
    geometry = (
        *kernel,
        *stride,
        *dilation,
        _out(shape[2], kernel[0], stride[0], dilation[0]),
        _out(shape[3], kernel[1], stride[1], dilation[1]),
    )
    out_numpy, where_numpy = numpy_pool.window_max(padded, *geometry)
    out_numba, where_numba = numba_pool.window_max(padded, *geometry)
    np.testing.assert_array_equal(out_numba, out_numpy)
    np.testing.assert_array_equal(where_numba, where_numpy)
    assert where_numba.dtype == where_numpy.dtype == (np.int8 if kernel[0] * kernel[1] <= 127 else np.int32)
    grad = rng.standard_normal(out_numpy.shape).astype(dtype)
    window = geometry[:6]
    np.testing.assert_allclose(
        numba_pool.window_max_backward(grad, where_numba, shape, *window),
        numpy_pool.window_max_backward(grad, where_numpy, shape, *window),
        rtol=1e-6,
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("windows", ["avg_3x3_stride2_pad1", "adaptive_to_4x3"])
def test_window_average_twins_agree_forward_and_backward(windows, dtype):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 9, 7)).astype(dtype)
    if windows == "adaptive_to_4x3":
        (top, bottom), (left, right) = adaptive_windows(9, 4), adaptive_windows(7, 3)
    else:
        top, bottom, _, rows = average_pool_windows(9, 3, 2, 1, False, 5)
        left, right, _, columns = average_pool_windows(7, 3, 2, 1, False, 4)
    divisor = np.outer(bottom - top, right - left).astype(np.float64)
    bounds = (top, bottom, left, right)
    np.testing.assert_allclose(
        numba_pool.window_average(x, *bounds, divisor), numpy_pool.window_average(x, *bounds, divisor), rtol=1e-5
    )
    grad = rng.standard_normal((2, 3) + divisor.shape).astype(dtype)
    np.testing.assert_allclose(
        numba_pool.window_average_backward(grad, x.shape, *bounds, divisor),
        numpy_pool.window_average_backward(grad, x.shape, *bounds, divisor),
        rtol=1e-5,
    )
