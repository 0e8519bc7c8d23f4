"""gradcheck itself: it passes right gradients and catches wrong ones, naming the worst element."""

import numpy as np
import pytest

import tinygrad_maas as tm
from tinygrad_maas.autograd import Function, GradcheckError, gradcheck


class WrongSquare(Function):
    """y = x^2 with a deliberately wrong backward (x instead of 2x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * x


def test_gradcheck_passes_a_correct_gradient():
    x = tm.tensor([[1.0, -2.0], [3.0, 0.5]], dtype=tm.float64, requires_grad=True)
    assert gradcheck(lambda t: t * t, x) is True


def test_gradcheck_catches_a_wrong_gradient_and_reports_the_worst_element():
    x = tm.tensor([1.0, -2.0, 3.0], dtype=tm.float64, requires_grad=True)
    with pytest.raises(GradcheckError) as failure:
        gradcheck(WrongSquare.apply, x)
    message = str(failure.value)
    # The worst element is x[2] = 3: backward says 3, finite differences say 6.
    assert "d out[2] / d in[2]" in message
    assert "3.0" in message and "6.0" in message


def test_gradcheck_catches_a_gradient_sent_to_the_wrong_element():
    class Shifted(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return np.roll(grad, 1) * 2

    x = tm.tensor([1.0, 2.0, 3.0], dtype=tm.float64, requires_grad=True)
    with pytest.raises(GradcheckError):
        gradcheck(Shifted.apply, x)


def test_gradcheck_needs_float64_inputs():
    x = tm.tensor([1.0, 2.0], requires_grad=True)  # float32
    with pytest.raises(TypeError, match="float64"):
        gradcheck(lambda t: t * t, x)


def test_gradcheck_needs_an_input_that_requires_grad():
    with pytest.raises(ValueError, match="no input requires grad"):
        gradcheck(lambda t: t * t, tm.tensor([1.0], dtype=tm.float64))


def test_gradcheck_handles_tuple_outputs_and_skips_integer_ones():
    x = tm.tensor([[1.0, 5.0], [7.0, 2.0]], dtype=tm.float64, requires_grad=True)
    assert gradcheck(lambda t: t.max(1), x)  # (values, indices): indices are int64 and skipped
