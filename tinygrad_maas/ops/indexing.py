"""Ops that select elements: indexing, gather, masked_fill, where.

Selecting is linear, so each backward puts the output gradient back where its element came from and zeros
elsewhere. When one input element is selected several times (x[[0, 0]]), its gradient is the sum of all of
them: `np.add.at` accumulates over repeated indices, where a plain `grad_x[key] += grad` would keep only one.
"""

import numpy as np

from ..autograd.function import Function
from .broadcast import unbroadcast


class Index(Function):
    """y = x[key] for a NumPy key (ints, slices, None, Ellipsis, integer or boolean arrays).

    dL/dx = zeros with dL/dy scattered back to the selected positions, summed over repeats.
    """

    @staticmethod
    def forward(ctx, x, key):
        ctx.shape = x.shape
        ctx.save_for_backward(key)  # may hold index arrays as large as x
        return x[key]

    @staticmethod
    def backward(ctx, grad):
        grad_x = np.zeros(ctx.shape, dtype=grad.dtype)
        (key,) = ctx.saved_tensors
        if _is_basic(key):  # slices and ints select each element at most once: plain assignment
            grad_x[key] = grad
        else:
            np.add.at(grad_x, _without_boolean_arrays(key), grad)
        return grad_x


def _is_basic(key):
    parts = key if isinstance(key, tuple) else (key,)
    return not any(isinstance(part, np.ndarray) for part in parts)


def _without_boolean_arrays(key):
    """Replace each boolean mask by the integer arrays of its True positions (what NumPy does with it)."""
    parts = key if isinstance(key, tuple) else (key,)
    expanded = []
    for part in parts:
        if isinstance(part, np.ndarray) and part.dtype == np.bool_:
            expanded.extend(np.nonzero(part))
        else:
            expanded.append(part)
    return tuple(expanded)


class Gather(Function):
    """out[i][j][k] = x[index[i][j][k]][j][k] for dim 0 (the index replaces the coordinate along `dim`).

    dL/dx[index[i][j][k]][j][k] += dL/dout[i][j][k]: a scatter-add of the gradient through the same index.
    """

    @staticmethod
    def forward(ctx, x, dim, index):
        # PyTorch lets index be smaller than x along the other dims: use only that corner of x.
        corner = tuple(slice(0, n) if axis != dim else slice(None) for axis, n in enumerate(index.shape))
        ctx.shape, ctx.dim = x.shape, dim
        ctx.save_for_backward(index)
        return np.take_along_axis(x[corner], index, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        (index,) = ctx.saved_tensors
        grad_x = np.zeros(ctx.shape, dtype=grad.dtype)
        positions = list(np.ogrid[tuple(slice(0, n) for n in index.shape)])
        positions[ctx.dim] = index
        np.add.at(grad_x, tuple(positions), grad)
        return grad_x


class MaskedFill(Function):
    """y = value where mask, x elsewhere (mask broadcasts to x).   dL/dx = dL/dy where not mask, else 0."""

    @staticmethod
    def forward(ctx, x, mask, value):
        ctx.save_for_backward(mask)
        return np.where(mask, np.asarray(value, dtype=x.dtype), x)

    @staticmethod
    def backward(ctx, grad):
        (mask,) = ctx.saved_tensors
        return grad * ~mask


class Where(Function):
    """y = x where condition, else other (all three broadcast).

    dL/dx = dL/dy where condition, else 0;  dL/dother = dL/dy where not condition, else 0; each summed
    down to its input's shape.
    """

    @staticmethod
    def forward(ctx, condition, x, other):
        ctx.save_for_backward(condition)
        ctx.shapes = np.shape(x), np.shape(other)
        return np.where(condition, x, other)

    @staticmethod
    def backward(ctx, grad):
        (condition,) = ctx.saved_tensors
        _, need_x, need_other = ctx.needs_input_grad
        zero = np.zeros((), dtype=grad.dtype)
        shape_x, shape_other = ctx.shapes
        return (None,
                unbroadcast(np.where(condition, grad, zero), shape_x) if need_x else None,
                unbroadcast(np.where(condition, zero, grad), shape_other) if need_other else None)
