"""The numba softmax, cross-entropy and embedding kernels agree with their NumPy twins."""

import numpy as np
import pytest

from tinygrad_maas.kernels import embedding as numba_embedding
from tinygrad_maas.kernels import softmax as numba_softmax
from tinygrad_maas.reference import embedding as numpy_embedding
from tinygrad_maas.reference import softmax as numpy_softmax

SHAPES = [(1, 1), (7, 5), (64, 10), (3, 1000), (0, 4), (130, 7)]  # 130 rows: blocks of 64 and a partial one


def _tolerance(dtype):
    return {"rtol": 1e-5, "atol": 1e-6} if dtype == np.float32 else {"rtol": 1e-12, "atol": 1e-12}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_twins_agree(name, shape, dtype):
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(shape) * 5).astype(dtype)
    if x.size > 4:  # an attention mask's filler, and a score far enough below the maximum that e^x is 0
        x.flat[1], x.flat[2] = np.finfo(dtype).min, -200.0
    grad = rng.standard_normal(shape).astype(dtype)
    y_numpy, y_numba = getattr(numpy_softmax, name)(x), getattr(numba_softmax, name)(x)
    np.testing.assert_allclose(y_numba, y_numpy, **_tolerance(dtype))
    backward = name + "_backward"
    np.testing.assert_allclose(
        getattr(numba_softmax, backward)(y_numpy, grad),
        getattr(numpy_softmax, backward)(y_numpy, grad),
        **_tolerance(dtype),
    )


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_of_a_transposed_view_agrees(name):
    """softmax over dim 0 hands the kernel a transposed (Fortran-ordered) view: its rows are not contiguous."""
    x = np.random.default_rng(1).standard_normal((130, 9)).astype(np.float32).T
    np.testing.assert_allclose(getattr(numba_softmax, name)(x), getattr(numpy_softmax, name)(x), **_tolerance(x.dtype))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("smoothing", [0.0, 0.25])
@pytest.mark.parametrize("repeats", [1, 400], ids=["serial build", "threaded build"])
def test_cross_entropy_twins_agree(repeats, smoothing, dtype):
    """Rows of 6 classes, some ignored; 400 times as many rows reach the threaded build (and more than one
    block of rows)."""
    rng = np.random.default_rng(1)
    logits = (rng.standard_normal((9 * repeats, 6)) * 4).astype(dtype)
    targets = np.tile(np.array([0, 5, 2, -100, 1, 1, 3, 4, -100], dtype=np.int64), repeats)
    weights = rng.uniform(0.5, 2.0, 6).astype(dtype)
    row_grads = rng.standard_normal(9 * repeats).astype(dtype)
    assert (logits.size >= numba_softmax.CROSS_ENTROPY_THREADS_FROM) == (repeats > 1)
    expected = numpy_softmax.cross_entropy(logits, targets, weights, -100, smoothing)
    actual = numba_softmax.cross_entropy(logits, targets, weights, -100, smoothing)
    losses, target_weights, lse = actual
    # A confident row's loss is lse - x_t, the difference of two numbers of the logits' size: it is exact to
    # a few units in the last place of those (the twins round lse's sum differently), not of itself.
    logits_ulp = np.finfo(dtype).eps * np.abs(logits).max()
    np.testing.assert_allclose(losses, expected[0], rtol=_tolerance(dtype)["rtol"], atol=4 * logits_ulp)
    np.testing.assert_allclose(target_weights, expected[1], **_tolerance(dtype))
    np.testing.assert_allclose(lse, expected[2], **_tolerance(dtype))
    lse = expected[2]
    np.testing.assert_allclose(
        numba_softmax.cross_entropy_backward(logits, targets, weights, -100, smoothing, lse, row_grads),
        numpy_softmax.cross_entropy_backward(logits, targets, weights, -100, smoothing, lse, row_grads),
        **_tolerance(dtype),
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("width", [1, 16, 37])
def test_embedding_backward_twins_agree_with_repeated_rows(width, dtype):
    rng = np.random.default_rng(2)
    indices = np.array([3, 0, 3, 3, 9, 0, 5], dtype=np.int64)
    grad = rng.standard_normal((indices.size, width)).astype(dtype)
    expected = numpy_embedding.embedding_backward(grad, indices, 10)
    np.testing.assert_allclose(numba_embedding.embedding_backward(grad, indices, 10), expected, **_tolerance(dtype))
    np.testing.assert_allclose(expected[3], grad[0] + grad[2] + grad[3], **_tolerance(dtype))


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_cross_entropy_backward_under_an_infinite_upstream_gradient_agrees_with_its_twin(smoothing):
    """Row 0's loss gradient is inf: its logits' gradients are (p_c - a_c) * inf, so +inf off the target and
    -inf on it ((p_t - 1) * inf; PyTorch, computing p * g - g there, gives nan). Row 1 stays finite."""
    logits = np.array([[1.0, 2.0, 0.5], [0.0, 3.0, -1.0]], dtype=np.float32)
    targets = np.array([1, 2], dtype=np.int64)
    weights = np.ones(3, dtype=np.float32)
    lse = numpy_softmax.cross_entropy(logits, targets, weights, -100, smoothing)[2]
    row_grads = np.array([np.inf, 1.0], dtype=np.float32)
    fast = numba_softmax.cross_entropy_backward(logits, targets, weights, -100, smoothing, lse, row_grads)
    reference = numpy_softmax.cross_entropy_backward(logits, targets, weights, -100, smoothing, lse, row_grads)
    assert fast[0].tolist() == reference[0].tolist() == [np.inf, -np.inf, np.inf]
    np.testing.assert_allclose(fast[1], reference[1], rtol=1e-6)
    assert np.isfinite(fast[1]).all()
