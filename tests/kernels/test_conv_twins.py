"""The numba im2col/col2im kernels agree with their NumPy twins (reference/conv.py), in both builds (the
calling thread alone below THREADS_FROM elements of columns, numba's threads above)."""

import numpy as np
import pytest

from tinygrad_maas.kernels import conv as numba_conv
from tinygrad_maas.reference import conv as numpy_conv

# (N, C, H, W), (kernel_h, kernel_w), stride, dilation
GEOMETRIES = [
    ((2, 3, 7, 5), (3, 3), (1, 1), (1, 1)),
    ((1, 2, 9, 8), (2, 3), (2, 1), (1, 2)),
    ((3, 1, 6, 11), (1, 4), (3, 2), (2, 1)),
    ((2, 4, 5, 5), (5, 5), (1, 1), (1, 1)),
    ((1, 1, 13, 7), (3, 2), (2, 3), (3, 2)),
    ((8, 8, 30, 30), (3, 3), (1, 1), (1, 1)),  # the threaded build
]


def _geometry(shape, kernel, stride, dilation):
    out_h = (shape[2] - dilation[0] * (kernel[0] - 1) - 1) // stride[0] + 1
    out_w = (shape[3] - dilation[1] * (kernel[1] - 1) - 1) // stride[1] + 1
    return (*kernel, *stride, *dilation, out_h, out_w)


def _column_elements(shape, kernel, stride, dilation):
    out_h, out_w = _geometry(shape, kernel, stride, dilation)[-2:]
    return shape[0] * shape[1] * kernel[0] * kernel[1] * out_h * out_w


def test_the_geometries_reach_both_builds():
    sizes = [_column_elements(*geometry) for geometry in GEOMETRIES]
    assert min(sizes) < numba_conv.THREADS_FROM <= max(sizes)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape, kernel, stride, dilation", GEOMETRIES)
def test_im2col_twins_agree(shape, kernel, stride, dilation, dtype):
    padded = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    geometry = _geometry(shape, kernel, stride, dilation)
    expected = numpy_conv.im2col(padded, *geometry)
    actual = numba_conv.im2col(padded, *geometry)
    assert actual.dtype == dtype and actual.shape == expected.shape
    np.testing.assert_array_equal(actual, expected)  # pure copies: bit for bit


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape, kernel, stride, dilation", GEOMETRIES)
def test_col2im_twins_agree(shape, kernel, stride, dilation, dtype):
    geometry = _geometry(shape, kernel, stride, dilation)
    n, c = shape[:2]
    cols = np.random.default_rng(1).standard_normal((c * kernel[0] * kernel[1], n * geometry[-2] * geometry[-1]))
    cols = cols.astype(dtype)
    expected = numpy_conv.col2im(cols, shape, *geometry)
    actual = numba_conv.col2im(cols, shape, *geometry)
    assert actual.dtype == dtype
    np.testing.assert_allclose(actual, expected, rtol=1e-6 if dtype == np.float32 else 1e-12, atol=1e-6)


def test_col2im_is_the_adjoint_of_im2col():
    # <im2col(x), y> == <x, col2im(y)> for all x, y: the defining property of a backward.
    rng = np.random.default_rng(2)
    shape, kernel, stride, dilation = GEOMETRIES[1]
    geometry = _geometry(shape, kernel, stride, dilation)
    x = rng.standard_normal(shape)
    y = rng.standard_normal(numpy_conv.im2col(x, *geometry).shape)
    for module in (numpy_conv, numba_conv):
        left = np.sum(module.im2col(x, *geometry) * y)
        right = np.sum(x * module.col2im(y, shape, *geometry))
        assert left == pytest.approx(right, rel=1e-12)
