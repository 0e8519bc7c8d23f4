"""Ops that join or border tensors: cat, stack, pad.

Each input occupies its own block of the output, so each backward hands every input its block of the
output gradient.
"""

import numpy as np

from .. import dtypes
from ..autograd.function import Function
from ..tensor import Tensor
from . import either
from .arguments import dim as _dim


class Cat(Function):
    """y = [x_1, x_2, ...] joined along `axis`.   dL/dx_k = the slice of dL/dy where x_k landed."""

    @staticmethod
    def forward(ctx, *arrays, axis):
        ctx.axis = axis
        ctx.boundaries = np.cumsum([a.shape[axis] for a in arrays])[:-1]
        return np.concatenate(arrays, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        return tuple(either.split(grad, ctx.boundaries, ctx.axis))


class Stack(Function):
    """y = x_1, x_2, ... stacked along a new axis.   dL/dx_k = dL/dy[..., k, ...] along that axis."""

    @staticmethod
    def forward(ctx, *arrays, axis):
        ctx.axis = axis
        return np.stack(arrays, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        return tuple(either.moveaxis(grad, ctx.axis, 0))


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
        return either.pad(inner, restored)


def cat(tensors, dim=0):
    """Join tensors along an existing dim; all other dims must match."""
    tensors = _same_dtype_tensors(tensors, "cat")
    axis = _dim(dim, tensors[0].ndim, "cat")
    if axis is None:
        raise ValueError("cat(): zero-dimensional tensors cannot be concatenated; use stack()")
    first = tensors[0].shape
    for i, t in enumerate(tensors):
        if t.ndim != len(first) or any(a != b for d, (a, b) in enumerate(zip(t.shape, first)) if d != axis):
            raise ValueError(
                f"cat(): tensor {i} has shape {t.shape} but tensor 0 has shape {first}; sizes must "
                f"match except in dim {dim}"
            )
    return Cat.apply(*tensors, axis=axis)


def stack(tensors, dim=0):
    """Join same-shaped tensors along a new dim."""
    tensors = _same_dtype_tensors(tensors, "stack")
    size = tensors[0].ndim + 1
    if isinstance(dim, bool) or not isinstance(dim, int) or not -size <= dim < size:
        raise IndexError(f"stack(): dim {dim} is out of range for the result's {size} dimensions")
    for i, t in enumerate(tensors):
        if t.shape != tensors[0].shape:
            raise ValueError(
                f"stack(): tensor {i} has shape {t.shape} but tensor 0 has shape {tensors[0].shape}; "
                "stack needs equal shapes"
            )
    return Stack.apply(*tensors, axis=dim % size)


def _same_dtype_tensors(tensors, op):
    """The tensors of a cat/stack, promoted to one dtype."""
    if isinstance(tensors, Tensor) or not len(tensors):
        raise TypeError(f"{op}(): expects a non-empty list or tuple of tensors")
    tensors = [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]
    dtype = tensors[0].dtype
    for t in tensors[1:]:
        if t.dtype != dtype:
            dtype = dtypes.promote_tensors(np.empty((1,), dtype), t.array)
    return [t.to(dtype) for t in tensors]
