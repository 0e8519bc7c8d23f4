"""Pooling: gradients, PyTorch's values (ceil_mode, padding, count_include_pad), clear errors."""

import numpy as np
import pytest

import tinygrad_maas as tm
import tinygrad_maas.nn.functional as F
from tests.gradients import check_gradients


def make(shape, seed=0):
    return tm.tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=True)


POOL_CASES = {
    "max_2x2": lambda x: F.max_pool2d(x, 2),
    "max_3x3_stride2_pad1": lambda x: F.max_pool2d(x, 3, stride=2, padding=1),
    "max_overlapping_ceil": lambda x: F.max_pool2d(x, (2, 3), stride=1, ceil_mode=True),
    "max_dilated": lambda x: F.max_pool2d(x, 2, dilation=2, ceil_mode=True),
    "avg_2x2": lambda x: F.avg_pool2d(x, 2),
    "avg_pad_include": lambda x: F.avg_pool2d(x, 3, stride=2, padding=1),
    "avg_pad_exclude_ceil": lambda x: F.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False, ceil_mode=True),
    "avg_divisor_override": lambda x: F.avg_pool2d(x, 2, divisor_override=3),
    "adaptive_4x3": lambda x: F.adaptive_avg_pool2d(x, (4, 3)),
    "adaptive_global": lambda x: F.adaptive_avg_pool2d(x, 1),
    "adaptive_upsampling": lambda x: F.adaptive_avg_pool2d(x, (9, 8)),
}


@pytest.mark.parametrize("name", POOL_CASES)
def test_pool_gradcheck(name):
    assert check_gradients(POOL_CASES[name], make((2, 2, 7, 6)))


def test_max_pool1d_gradcheck_and_unbatched_inputs():
    assert check_gradients(lambda x: F.max_pool1d(x, 3, stride=2, padding=1), make((2, 3, 9)))
    assert F.max_pool2d(make((3, 6, 6)), 2).shape == (3, 3, 3)
    assert F.max_pool1d(make((3, 6)), 2).shape == (3, 3)


X = tm.tensor([[[[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0], [9.0, 10.0, 11.0, 12.0]]]])


def test_max_pool_values_match_pytorch():
    assert F.max_pool2d(X, 2).tolist() == [[[[6.0, 8.0]]]]
    assert F.max_pool2d(X, 2, ceil_mode=True).tolist() == [[[[6.0, 8.0], [10.0, 12.0]]]]
    assert F.max_pool1d(tm.tensor([[[1.0, 3.0, 2.0, 5.0, 4.0]]]), 2, stride=1).tolist() == [[[3.0, 3.0, 5.0, 5.0]]]


def test_avg_pool_values_match_pytorch():
    assert F.avg_pool2d(X, 2, padding=1).tolist() == [[[[0.25, 1.25, 1.0], [3.5, 8.5, 5.0]]]]
    assert F.avg_pool2d(X, 2, padding=1, count_include_pad=False).tolist() == [[[[1.0, 2.5, 4.0], [7.0, 8.5, 10.0]]]]
    assert F.adaptive_avg_pool2d(X, (2, 3)).tolist() == [[[[3.5, 4.5, 5.5], [7.5, 8.5, 9.5]]]]


def test_max_pool_gradient_goes_to_the_first_maximum_once_per_window():
    x = tm.tensor([[[[1.0, 1.0], [0.0, 0.0]]]], requires_grad=True)
    F.max_pool2d(x, 2).sum().backward()
    assert x.grad.tolist() == [[[[1.0, 0.0], [0.0, 0.0]]]]
    y = tm.tensor([[[[0.0, 5.0, 0.0]]]], requires_grad=True)
    F.max_pool2d(y, (1, 2), stride=1).sum().backward()  # two windows share the maximum
    assert y.grad.tolist() == [[[[0.0, 2.0, 0.0]]]]


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: F.max_pool2d(tm.ones(1, 1, 4, 4), 2, padding=2), "at most half the kernel"),
        (lambda: F.max_pool2d(tm.ones(1, 1, 2, 2), 3), "too small for kernel"),
        (lambda: F.max_pool2d(tm.ones(4, 4), 2), r"expected a \(N, C, H, W\) input"),
        (lambda: F.max_pool2d(tm.ones(1, 1, 4, 4), 0), "kernel_size must be"),
        (lambda: F.avg_pool2d(tm.ones(1, 1, 4, 4), 2, divisor_override=0), "divisor_override"),
        (lambda: F.adaptive_avg_pool2d(tm.ones(1, 1, 4, 4), 0), "output_size must be"),
    ],
)
def test_pool_errors_name_the_problem(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_pooling_an_integer_tensor_is_refused():
    with pytest.raises(TypeError, match="floating point input"):
        F.max_pool2d(tm.ones(1, 1, 4, 4, dtype=tm.int64), 2)
