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
