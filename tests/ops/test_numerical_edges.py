"""Edges where an answer used to be nan, an error or the wrong dtype while PyTorch gives a finite answer.
The literals are PyTorch 2.13's."""

import math

import numpy as np
import pytest

import tinygrad_maas as tm
import tinygrad_maas.nn.functional as F


@pytest.mark.parametrize("loss", ["cross_entropy", "nll_loss"])
def test_a_mean_loss_over_only_ignored_targets_is_nan_and_gives_no_gradient(loss):
    x = tm.tensor([[1.0, 2.0], [0.5, 0.1]], requires_grad=True)
    value = getattr(F, loss)(x if loss == "cross_entropy" else x.log_softmax(1), tm.tensor([-100, -100]))
    value.backward()
    assert math.isnan(value.item())
    assert x.grad.tolist() == [[0.0, 0.0], [0.0, 0.0]]


@pytest.mark.parametrize("reduction, expected", [("sum", 10.0), ("mean", 2.5), ("amax", 4.0), ("amin", 1.0)])
def test_an_empty_dim_tuple_reduces_every_dim(reduction, expected):
    assert getattr(tm.tensor([[1.0, 2.0], [3.0, 4.0]]), reduction)(dim=()).item() == expected


def test_an_integer_tensor_clamped_to_float_bounds_is_float32():
    clamped = tm.tensor([1, 2, 3]).clamp(0.5, 2.5)
    assert clamped.dtype == tm.float32 and clamped.tolist() == [1.0, 2.0, 2.5]
    assert tm.tensor([1, 2, 3]).clamp(0, 2).dtype == tm.int64  # integer bounds keep the integers


def test_indexing_with_an_empty_list_selects_nothing():
    x = tm.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    picked = x[[]]
    assert picked.shape == (0, 2)
    picked.sum().backward()
    assert x.grad.tolist() == [[0.0, 0.0], [0.0, 0.0]]


def test_std_of_equal_elements_has_gradient_zero():
    x = tm.tensor([2.0, 2.0, 2.0], requires_grad=True)
    s = x.std()
    s.backward()
    assert s.item() == 0.0 and x.grad.tolist() == [0.0, 0.0, 0.0]


def test_pow_at_a_zero_base_follows_pytorch():
    grads = []
    for exponent in (0.5, 2.0, 1.0, 0.0, -1.0):
        x = tm.tensor([0.0], requires_grad=True)
        (x**exponent).sum().backward()
        grads.append(x.grad.item())
    assert grads == [math.inf, 0.0, 1.0, 0.0, -math.inf]
    base, exponent = tm.tensor([0.0, 2.0], requires_grad=True), tm.tensor([2.0, 0.5], requires_grad=True)
    (base**exponent).sum().backward()
    assert np.allclose(base.grad.tolist(), [0.0, 0.3535533845424652])
    assert np.allclose(exponent.grad.tolist(), [0.0, 0.9802581071853638])
