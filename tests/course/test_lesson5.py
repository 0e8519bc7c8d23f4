"""Lesson 5: im2col and col2im are adjoint, and conv2d is a matrix product over im2col."""

import numpy as np
import pytest

import tinygrad_maas as tm
from tinygrad_maas import backend

from .pages import run_page

pytestmark = pytest.mark.lesson5


def test_the_page_runs_as_written():
    attempted, failed = run_page("lesson5_convolution.md")
    assert attempted > 5 and failed == 0


@pytest.mark.parametrize("stride, dilation", [(1, 1), (2, 1), (1, 2), (2, 2)])
def test_col2im_is_the_adjoint_of_im2col_in_the_running_backend(stride, dilation):
    conv = backend.kernels("conv")
    rng = np.random.default_rng(stride * 10 + dilation)
    x = rng.standard_normal((2, 3, 7, 6))
    kernel = 3
    out_h = (7 - dilation * (kernel - 1) - 1) // stride + 1
    out_w = (6 - dilation * (kernel - 1) - 1) // stride + 1
    geometry = (kernel, kernel, stride, stride, dilation, dilation, out_h, out_w)
    cols = conv.im2col(x, *geometry)
    c = rng.standard_normal(cols.shape)
    assert np.isclose(np.sum(cols * c), np.sum(x * conv.col2im(c, x.shape, *geometry)))


def test_conv2d_is_the_kernel_matrix_times_im2col():
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((1, 2, 5, 5)), rng.standard_normal((4, 2, 3, 3))
    cols = backend.kernels("conv").im2col(x, 3, 3, 1, 1, 1, 1, 3, 3)
    by_hand = (w.reshape(4, -1) @ cols).reshape(4, 3, 3)
    assert np.allclose(tm.nn.functional.conv2d(tm.tensor(x), tm.tensor(w)).array[0], by_hand)
