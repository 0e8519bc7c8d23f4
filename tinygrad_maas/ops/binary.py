"""Elementwise binary ops: z = f(a, b) with NumPy broadcasting.

Each backward multiplies the output gradient by the local derivative, then `unbroadcast`s it to the
input's shape (an input broadcast along an axis receives the sum of the gradients along it). An input that
is a constant (a Python number) or does not require grad gets None.
"""

import numpy as np

from ..autograd.function import Function
from . import either
from .broadcast import unbroadcast


def _shape(x):
    return x.shape if type(x) is np.ndarray else np.shape(x)


class Add(Function):
    """z = a + b.   dz/da = 1, dz/db = 1."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = _shape(a), _shape(b)
        return a + b

    @staticmethod
    def backward(ctx, grad):
        need_a, need_b = ctx.needs_input_grad
        shape_a, shape_b = ctx.shapes
        return (unbroadcast(grad, shape_a) if need_a else None, unbroadcast(grad, shape_b) if need_b else None)


class Sub(Function):
    """z = a - b.   dz/da = 1, dz/db = -1."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = _shape(a), _shape(b)
        return a - b

    @staticmethod
    def backward(ctx, grad):
        need_a, need_b = ctx.needs_input_grad
        shape_a, shape_b = ctx.shapes
        return (unbroadcast(grad, shape_a) if need_a else None, unbroadcast(-grad, shape_b) if need_b else None)


class Mul(Function):
    """z = a * b.   dz/da = b, dz/db = a."""

    saved_roles = ("a", "b")

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        return (
            unbroadcast(grad * b, _shape(a)) if need_a else None,
            unbroadcast(grad * a, _shape(b)) if need_b else None,
        )


class Div(Function):
    """z = a / b.   dz/da = 1 / b, dz/db = -a / b^2 = -z / b."""

    saved_roles = ("a", "b")

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a / b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        grad_over_b = grad / b
        return (
            unbroadcast(grad_over_b, _shape(a)) if need_a else None,
            unbroadcast(-grad_over_b * a / b, _shape(b)) if need_b else None,
        )


class Pow(Function):
    """z = a ** b.   dz/da = b * a^(b-1),  dz/db = a^b * ln(a) (taken as 0 where a == 0, as PyTorch does).

    The exponent is usually a Python number (x ** 2); with exponent 0 the gradient is 0 everywhere, also
    at a == 0 where b * a^(b-1) would be 0 * inf.
    """

    saved_roles = ("a", "b", "output")

    @staticmethod
    def forward(ctx, a, b):
        with np.errstate(divide="ignore", invalid="ignore"):  # 0 ** -1 = inf, (-1) ** 0.5 = nan: silently
            out = a**b
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, b, out = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        grad_a = grad_b = None
        if need_a:
            if np.ndim(b) == 0 and either.value(b) == 0:
                grad_a = either.zeros_like(a)
            else:
                with np.errstate(divide="ignore", invalid="ignore"):  # sqrt's slope at 0 is inf, silently
                    grad_a = unbroadcast(grad * b * a ** (b - 1), _shape(a))
        if need_b:
            is_zero = either.value(a) == 0
            with np.errstate(divide="ignore", invalid="ignore"):
                log_a = either.where(is_zero, 0, np.log(either.where(is_zero, 1, a)))
            grad_b = unbroadcast(grad * out * log_a, _shape(b))
        return grad_a, grad_b


class Remainder(Function):
    """z = a mod b = a - floor(a / b) * b, with the sign of b (Python's %, PyTorch's remainder).

    Between the jumps floor(a / b) is a constant q, so dz/da = 1 and dz/db = -q.
    """

    saved_roles = ("a", "b")

    @staticmethod
    def forward(ctx, a, b):
        if np.asarray(a).dtype.kind in "iu" and np.any(np.asarray(b) == 0):
            raise ZeroDivisionError("remainder: integer modulo by zero")
        ctx.save_for_backward(a, b)
        with np.errstate(divide="ignore", invalid="ignore"):  # x % 0.0 is nan, silently (PyTorch)
            return np.remainder(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        with np.errstate(divide="ignore", invalid="ignore"):
            quotient = np.floor_divide(either.value(a), either.value(b))
        return (
            unbroadcast(grad, _shape(a)) if need_a else None,
            unbroadcast(-grad * quotient, _shape(b)) if need_b else None,
        )


class BinaryCrossEntropy(Function):
    """l = -(t max(log p, -100) + (1 - t) max(log(1 - p), -100)) for a probability p and a target t.

    dl/dp = -t/p + (1 - t)/(1 - p) = (p - t) / (p (1 - p)), with the denominator kept at least 1e-12, as
    PyTorch: at a saturated p (0 or 1) the gradient is (p - t) * 1e12, finite, and 0 where p = t.
    dl/dt = max(log(1 - p), -100) - max(log p, -100).
    """

    saved_roles = ("p", "t")

    @staticmethod
    def forward(ctx, p, t):
        ctx.save_for_backward(p, t)
        with np.errstate(divide="ignore"):  # log(0) = -inf, then clamped
            return -(t * np.maximum(np.log(p), -100) + (1 - t) * np.maximum(np.log1p(-p), -100))

    @staticmethod
    def backward(ctx, grad):
        p, t = ctx.saved_tensors
        need_p, need_t = ctx.needs_input_grad
        grad_p = grad_t = None
        if need_p:
            grad_p = unbroadcast(grad * (p - t) / np.maximum(p * (1 - p), 1e-12), _shape(p))
        if need_t:
            with np.errstate(divide="ignore"):
                grad_t = unbroadcast(grad * (np.maximum(np.log1p(-p), -100) - np.maximum(np.log(p), -100)), _shape(t))
        return grad_p, grad_t


class _Select(Function):
    """z = select(a, b) elementwise, one of the two: the gradient goes to the one selected, and half to
    each on ties (as PyTorch). `pick` is np.maximum or np.minimum, `wins` whether a beats b."""

    pick = wins = None
    saved_roles = ("a", "b")

    @classmethod
    def forward(cls, ctx, a, b):
        ctx.save_for_backward(a, b)
        return cls.pick(a, b)

    @classmethod
    def backward(cls, ctx, grad):
        a, b = ctx.saved_tensors
        values_a, values_b = either.value(a), either.value(b)  # which one wins is a constant
        return _select_grads(ctx, grad, a, b, cls.wins(values_a, values_b) + 0.5 * (values_a == values_b))


class Maximum(_Select):
    """z = max(a, b) elementwise.   dz/da = 1 where a > b, 0 where a < b, 1/2 on ties (as PyTorch)."""

    pick, wins = staticmethod(np.maximum), staticmethod(np.greater)


class Minimum(_Select):
    """z = min(a, b) elementwise.   dz/da = 1 where a < b, 0 where a > b, 1/2 on ties (as PyTorch)."""

    pick, wins = staticmethod(np.minimum), staticmethod(np.less)


def _select_grads(ctx, grad, a, b, share_of_a):
    """Split `grad` between a and b: a gets `share_of_a`, b the rest (maximum/minimum backward). The side
    that lost gets 0 by selection, not by multiplying: 0 even where the upstream gradient is inf or nan."""
    need_a, need_b = ctx.needs_input_grad
    share_of_a = share_of_a.astype(grad.dtype, copy=False)  # an array: grad.dtype is NumPy's on a Tensor too
    with np.errstate(invalid="ignore"):  # inf * 0 where the other side won: computed, then not selected
        return (
            unbroadcast(either.keep(share_of_a != 0, grad * share_of_a), _shape(a)) if need_a else None,
            unbroadcast(either.keep(share_of_a != 1, grad * (1 - share_of_a)), _shape(b)) if need_b else None,
        )
