"""The numba matmul kernel agrees with its NumPy twin (np.matmul) on odd shapes, tails and batches."""

import numpy as np
import pytest

from tinygrad_maas.kernels import matmul as numba_matmul
from tinygrad_maas.reference import matmul as numpy_matmul

SHAPES = [
    ((1, 1), (1, 1)),
    ((4, 4), (4, 4)),
    ((5, 7), (7, 3)),
    ((67, 33), (33, 130)),
    ((3, 0), (0, 5)),
    ((0, 4), (4, 2)),
    ((2, 5, 7), (7, 6)),
    ((3, 1, 4, 9), (2, 9, 5)),
]


def assert_twins_agree(function, shape_a, shape_b, dtype, atol=(1e-4, 1e-11)):
    """The numba kernel and its NumPy twin, both called as function(a, b), give the same product (atol: for
    float32, float64)."""
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(shape_a).astype(dtype), rng.standard_normal(shape_b).astype(dtype)
    expected = getattr(numpy_matmul, function)(a, b)
    actual = getattr(numba_matmul, function)(a, b)
    assert actual.shape == expected.shape and actual.dtype == dtype
    tolerance = {"rtol": 1e-4, "atol": atol[0]} if dtype == np.float32 else {"rtol": 1e-11, "atol": atol[1]}
    np.testing.assert_allclose(actual, expected, **tolerance)
    return actual


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape_a, shape_b", SHAPES, ids=str)
def test_matmul_twins_agree(shape_a, shape_b, dtype):
    assert_twins_agree("matmul", shape_a, shape_b, dtype)


def test_matmul_kernel_accepts_non_contiguous_inputs():
    a = np.arange(48.0).reshape(6, 8)[:, ::2]  # (6, 4), strided
    b = np.arange(20.0).reshape(4, 5)
    np.testing.assert_allclose(numba_matmul.matmul(a, b), a @ b)
    b_strided = np.arange(40.0).reshape(4, 10)[:, ::2]  # (4, 5), packed by the blocked transpose
    np.testing.assert_allclose(numba_matmul.matmul(a, b_strided), a @ b_strided)


TRANSPOSED_SHAPES = [
    ((1, 1), (1, 1)),
    ((6, 5000), (75, 5000)),
    ((7, 300), (9, 300)),
    ((67, 33), (130, 33)),
    ((3, 0), (5, 0)),
    ((0, 4), (2, 4)),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape_a, shape_bt", TRANSPOSED_SHAPES, ids=str)
def test_matmul_transposed_twins_agree(shape_a, shape_bt, dtype):
    product = assert_twins_agree("matmul_transposed", shape_a, shape_bt, dtype, atol=(1e-3, 1e-10))  # K up to 5000
    assert product.shape == (shape_a[0], shape_bt[0])


@pytest.mark.parametrize("module", [numba_matmul, numpy_matmul], ids=["numba", "numpy"])
def test_matmul_transposed_refuses_a_mismatched_shared_axis(module):
    with pytest.raises(ValueError, match=r"shapes \(2, 3\) and \(4, 5\) \(transposed\) cannot be multiplied"):
        module.matmul_transposed(np.ones((2, 3)), np.ones((4, 5)))
