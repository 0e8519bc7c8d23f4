"""Ops that move elements without changing them: reshape, permute, expand, repeat, flip.

Each backward moves the gradient back the inverse way. reshape also serves view, flatten, squeeze and
unsqueeze; permute also serves transpose and T (the Tensor methods compute the target shape or order).
"""

import numpy as np

from ..autograd.function import Function
from .broadcast import unbroadcast


class Reshape(Function):
    """y = x with a new shape (same elements, row-major order).   dL/dx = dL/dy reshaped back."""

    @staticmethod
    def forward(ctx, x, shape):
        ctx.input_shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.input_shape)


class Permute(Function):
    """y = x with axes reordered: y.shape[i] = x.shape[dims[i]].   dL/dx = dL/dy permuted by the inverse."""

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return np.transpose(x, dims)

    @staticmethod
    def backward(ctx, grad):
        return np.transpose(grad, np.argsort(ctx.dims))


class Expand(Function):
    """y = x broadcast to `shape` (no copy).   dL/dx = dL/dy summed over the broadcast axes."""

    @staticmethod
    def forward(ctx, x, shape):
        ctx.input_shape = x.shape
        return np.broadcast_to(x, shape)

    @staticmethod
    def backward(ctx, grad):
        return unbroadcast(grad, ctx.input_shape)


class Repeat(Function):
    """y = x tiled `repeats[i]` times along axis i (np.tile; x gets leading axes if repeats is longer).

    Each input element appears once per tile, so dL/dx sums the gradient over the tiles: view the gradient
    as (r0, s0, r1, s1, ...) and sum the r axes.
    """

    @staticmethod
    def forward(ctx, x, repeats):
        shape = (1,) * (len(repeats) - x.ndim) + x.shape
        ctx.input_shape, ctx.padded_shape, ctx.repeats = x.shape, shape, repeats
        return np.tile(x.reshape(shape), repeats)

    @staticmethod
    def backward(ctx, grad):
        split = []
        for tiles, size in zip(ctx.repeats, ctx.padded_shape):
            split += [tiles, size]
        summed = grad.reshape(split).sum(axis=tuple(range(0, len(split), 2)))
        return summed.reshape(ctx.input_shape)


class Flip(Function):
    """y = x reversed along `axes`.   dL/dx = dL/dy reversed along the same axes."""

    @staticmethod
    def forward(ctx, x, axes):
        ctx.axes = axes
        return np.flip(x, axes)

    @staticmethod
    def backward(ctx, grad):
        return np.flip(grad, ctx.axes)
