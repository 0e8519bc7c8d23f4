"""F.linear, y = x W^T + b, as one op: values, float64 gradients for every input shape, clear errors."""

import numpy as np
import pytest

import tinygrad_maas as tm
import tinygrad_maas.nn.functional as F
from tests.gradients import check_gradients
from tinygrad_maas.ops.linear import FEW_ROWS


def make(shape, seed):
    return tm.tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=True)


INPUT_SHAPES = [(4, 3), (3,), (2, 4, 3), (0, 3)]


@pytest.mark.parametrize("shape", INPUT_SHAPES, ids=str)
def test_linear_matches_the_formula(shape):
    x, w, b = make(shape, 1), make((5, 3), 2), make((5,), 3)
    np.testing.assert_allclose(F.linear(x, w, b).array, x.array @ w.array.T + b.array)
    np.testing.assert_allclose(F.linear(x, w).array, x.array @ w.array.T)


@pytest.mark.parametrize("shape", INPUT_SHAPES, ids=str)
def test_linear_gradcheck(shape):
    x, w, b = make(shape, 1), make((5, 3), 2), make((5,), 3)
    assert check_gradients(F.linear, (x, w, b))
    assert check_gradients(lambda x, w: F.linear(x, w), (x, w))


def test_the_weight_gradient_comes_back_in_the_weights_own_layout():
    # x @ W.T would hand back a transposed (strided) view; fused optimizers walk gradients as flat arrays
    x, w = make((6, 3), 1), make((5, 3), 2)
    F.linear(x, w).sum().backward()
    assert w.grad.array.flags.c_contiguous
    np.testing.assert_allclose(w.grad.array, np.ones((6, 5)).T @ x.array)


def test_a_linear_layer_on_a_leaf_input_computes_no_input_gradient():
    x, w = tm.tensor(np.ones((2, 3))), make((4, 3), 2)
    F.linear(x, w).sum().backward()
    assert x.grad is None and w.grad is not None


@pytest.mark.parametrize(
    "x_shape, w_shape, b_shape, message",
    [
        ((4, 3), (5, 2), None, r"input of shape \(4, 3\) cannot be multiplied .* weight of shape \(5, 2\)"),
        ((4, 3), (3,), None, r"weight of shape \(3,\)"),
        ((4, 3), (5, 3), (3,), r"bias must have shape \(5,\), got \(3,\)"),
    ],
)
def test_mismatched_shapes_are_named(x_shape, w_shape, b_shape, message):
    bias = None if b_shape is None else tm.ones(*b_shape)
    with pytest.raises(ValueError, match=message):
        F.linear(tm.ones(*x_shape), tm.ones(*w_shape), bias)


def test_mixed_dtypes_are_refused_as_in_pytorch():
    with pytest.raises(TypeError, match="share one floating dtype"):
        F.linear(tm.ones(2, 3), tm.ones(4, 3, dtype=tm.float64))


@pytest.mark.parametrize("rows", [1, FEW_ROWS, FEW_ROWS + 1])
def test_both_layouts_of_the_forward_product_give_x_times_w_transposed(rows):
    """Up to FEW_ROWS rows the forward computes (W X^T)^T (faster in OpenBLAS for few rows), above it X W^T:
    the same product, to float32 rounding, with a contiguous (rows, out) result either way."""
    rng = np.random.default_rng(rows)
    x, w, b = (rng.standard_normal(shape).astype(np.float32) for shape in ((rows, 40), (24, 40), (24,)))
    out = F.linear(tm.tensor(x), tm.tensor(w), tm.tensor(b)).numpy()
    assert out.flags.c_contiguous and out.shape == (rows, 24)
    np.testing.assert_allclose(out, x.astype(np.float64) @ w.T.astype(np.float64) + b, rtol=1e-5, atol=1e-5)
