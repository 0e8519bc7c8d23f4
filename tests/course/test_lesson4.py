"""Lesson 4: writing a Function, checked by gradcheck and by the engine."""

import numpy as np
import pytest

import tinygrad_maas as tm
from tinygrad_maas.autograd import Function, gradcheck, gradgradcheck

from .pages import run_page

pytestmark = pytest.mark.lesson4


class Softsign(Function):
    """y = x / (1 + |x|).   dy/dx = 1 / (1 + |x|)^2."""

    saved_roles = ("x",)

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x / (1 + np.abs(x))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / (1 + np.abs(x)) ** 2


def test_the_page_runs_as_written():
    attempted, failed = run_page("lesson4_your_own_function.md")
    assert attempted > 5 and failed == 0


def test_exercise_softsign_passes_first_and_second_order_checks():
    x = tm.tensor([-2.0, -0.3, 0.4, 1.5], dtype=tm.float64, requires_grad=True)
    assert gradcheck(Softsign.apply, x) and gradgradcheck(Softsign.apply, x)


def test_returning_too_many_gradients_is_named():
    class TooMany(Softsign):
        @staticmethod
        def backward(ctx, grad):
            return grad, grad

    with pytest.raises(RuntimeError, match="TooManyBackward returned 2 gradients but its forward had 1 input"):
        TooMany.apply(tm.tensor([1.0], requires_grad=True)).sum().backward()
