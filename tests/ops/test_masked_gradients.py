"""Ops that pass some elements and block others select the upstream gradient instead of multiplying it by
a 0/1 mask, so a blocked element's gradient is 0 even when the upstream gradient there is inf or nan
(inf * 0 would be nan). The literals are PyTorch 2.13's."""

import numpy as np

import tinygrad_maas as tm

inf, nan = float("inf"), float("nan")


def gradients(fn, *values, upstream):
    tensors = [tm.tensor(v, dtype=tm.float64, requires_grad=True) for v in values]
    fn(*tensors).backward(tm.tensor(upstream, dtype=tm.float64))
    return [t.grad.tolist() for t in tensors]


def same(got, expected):
    return np.array_equal(np.array(got), np.array(expected), equal_nan=True)


def test_relu_blocks_an_infinite_gradient_where_the_input_was_not_positive():
    assert same(gradients(lambda x: x.relu(), [-1.0, 0.0, 2.0], upstream=[inf, nan, 1.0]), [[0.0, 0.0, 1.0]])


def test_clamp_blocks_outside_its_bounds_and_passes_nan_inside():
    got = gradients(lambda x: x.clamp(-0.5, 0.5), [-1.0, 0.0, 2.0], upstream=[inf, nan, inf])
    assert same(got, [[0.0, nan, 0.0]])


def test_maximum_gives_the_loser_zero_and_each_tied_side_half():
    got = gradients(tm.maximum, [1.0, 2.0, 3.0], [2.0, 2.0, 1.0], upstream=[inf, inf, nan])
    assert same(got, [[0.0, inf, nan], [inf, inf, 0.0]])


def test_minimum_mirrors_maximum():
    got = gradients(tm.minimum, [1.0, 2.0, 3.0], [2.0, 2.0, 1.0], upstream=[nan, inf, inf])
    assert same(got, [[nan, inf, 0.0], [0.0, inf, inf]])


def test_masked_fill_blocks_the_filled_elements():
    mask = tm.tensor([True, False, True])
    got = gradients(lambda x: x.masked_fill(mask, 0.0), [1.0, 2.0, 3.0], upstream=[inf, nan, nan])
    assert same(got, [[0.0, nan, 0.0]])


def test_leaky_relu_passes_both_sides_scaled():
    got = gradients(lambda x: tm.nn.functional.leaky_relu(x, 0.1), [-1.0, 2.0], upstream=[inf, nan])
    assert same(got, [[inf, nan]])


def test_amax_multiplies_as_pytorch_does():
    """amax shares the gradient by a multiplication in PyTorch too: inf * 0 is nan there as well."""
    assert same(gradients(lambda x: x.amax(), [1.0, 3.0], upstream=inf), [[nan, inf]])


def test_sigmoid_keeps_its_relative_precision_in_the_negative_tail():
    """PyTorch 2.13: sigmoid(-40) = 4.24835413113866e-18 in float32, and its gradient the same. At -100
    the true value, 3.72e-44, is a float32 subnormal: we give 3.78e-44, PyTorch rounds to 0."""
    x = tm.tensor([-40.0, -100.0, 0.0, 30.0], requires_grad=True)
    y = x.sigmoid()
    y.sum().backward()
    assert np.allclose(y.tolist(), [4.24835413113866e-18, 3.783505853677006e-44, 0.5, 1.0], rtol=1e-6, atol=0)
    assert np.allclose(x.grad.tolist(), [4.24835413113866e-18, 3.783505853677006e-44, 0.25, 0.0], rtol=1e-6, atol=0)
    assert y.dtype == tm.float32


def test_softplus_gradient_keeps_the_same_precision():
    x = tm.tensor([-40.0, -100.0], dtype=tm.float64, requires_grad=True)
    tm.nn.functional.softplus(x).sum().backward()
    assert np.allclose(x.grad.tolist(), [4.248354255291589e-18, 3.7200759760208356e-44], rtol=1e-9, atol=0)
