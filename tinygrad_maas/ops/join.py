"""Ops that join or border tensors: cat, stack, pad.

Each input occupies its own block of the output, so each backward hands every input its block of the
output gradient.
"""

import numpy as np

from ..autograd.function import Function


class Cat(Function):
    """y = [x_1, x_2, ...] joined along `axis`.   dL/dx_k = the slice of dL/dy where x_k landed."""

    @staticmethod
    def forward(ctx, *arrays, axis):
        ctx.axis = axis
        ctx.boundaries = np.cumsum([a.shape[axis] for a in arrays])[:-1]
        return np.concatenate(arrays, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        return tuple(np.split(grad, ctx.boundaries, axis=ctx.axis))


class Stack(Function):
    """y = x_1, x_2, ... stacked along a new axis.   dL/dx_k = dL/dy[..., k, ...] along that axis."""

    @staticmethod
    def forward(ctx, *arrays, axis):
        ctx.axis = axis
        return np.stack(arrays, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        return tuple(np.moveaxis(grad, ctx.axis, 0))


class ConstantPad(Function):
    """y = x with `widths[i] = (before, after)` elements added on each side of axis i, filled with `value`.

    A negative width crops instead (PyTorch allows it in constant mode). dL/dx = the part of dL/dy that
    holds x: pads dropped, cropped parts zero.
    """

    @staticmethod
    def forward(ctx, x, widths, value=0.0):
        ctx.widths = widths
        cropped = x[tuple(slice(max(-lo, 0), n - max(-hi, 0)) for (lo, hi), n in zip(widths, x.shape))]
        grown = [(max(lo, 0), max(hi, 0)) for lo, hi in widths]
        return np.pad(cropped, grown, mode="constant", constant_values=value)

    @staticmethod
    def backward(ctx, grad):
        inner = grad[tuple(slice(max(lo, 0), n - max(hi, 0)) for (lo, hi), n in zip(ctx.widths, grad.shape))]
        restored = [(max(-lo, 0), max(-hi, 0)) for lo, hi in ctx.widths]
        return np.pad(inner, restored, mode="constant")
