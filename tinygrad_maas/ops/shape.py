"""Ops that move elements without changing them: reshape, permute, expand, repeat, flip.

Each backward moves the gradient back the inverse way. reshape also serves view, flatten, squeeze and
unsqueeze; permute also serves transpose and T (the Tensor methods compute the target shape or order).
"""

import math

import numpy as np

from ..autograd.function import Function
from . import either
from .arguments import dim as _dim
from .arguments import dims as _dims
from .arguments import reshape_target
from .arguments import sizes as _sizes
from .broadcast import unbroadcast


class Reshape(Function):
    """y = x with a new shape (same elements, row-major order).   dL/dx = dL/dy reshaped back."""

    @staticmethod
    def forward(ctx, x, shape):
        ctx.input_shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, grad):
        return either.reshape(grad, ctx.input_shape)


class Permute(Function):
    """y = x with axes reordered: y.shape[i] = x.shape[dims[i]].   dL/dx = dL/dy permuted by the inverse."""

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return np.transpose(x, dims)

    @staticmethod
    def backward(ctx, grad):
        return either.transpose(grad, tuple(np.argsort(ctx.dims)))


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
        summed = either.sum_axes(either.reshape(grad, split), tuple(range(0, len(split), 2)))
        return either.reshape(summed, ctx.input_shape)


class Flip(Function):
    """y = x reversed along `axes`.   dL/dx = dL/dy reversed along the same axes."""

    @staticmethod
    def forward(ctx, x, axes):
        ctx.axes = axes
        return np.flip(x, axes)

    @staticmethod
    def backward(ctx, grad):
        return either.flip(grad, ctx.axes)


def reshape(tensor, shape):
    """The tensor in `shape` (one -1 inferred); itself when the shape does not change."""
    new_shape = reshape_target(_sizes(shape), tensor.array.size, tensor.shape)
    return tensor if new_shape == tensor.array.shape else Reshape.apply(tensor, shape=new_shape)


def flatten(tensor, start_dim, end_dim):
    if tensor.ndim == 0:
        return reshape(tensor, (1,))
    start, end = _dim(start_dim, tensor.ndim, "flatten"), _dim(end_dim, tensor.ndim, "flatten")
    if start > end:
        raise ValueError(f"flatten(): start_dim {start_dim} comes after end_dim {end_dim}")
    shape = tensor.shape
    return reshape(tensor, shape[:start] + (math.prod(shape[start : end + 1]),) + shape[end + 1 :])


def unsqueeze(tensor, dim):
    size = tensor.ndim + 1
    if isinstance(dim, bool) or not isinstance(dim, int) or not -size <= dim < size:
        raise IndexError(
            f"unsqueeze(): dim {dim} is out of range for a tensor with {tensor.ndim} dimension(s) "
            f"(expected a value in [{-size}, {size - 1}])"
        )
    axis = dim % size
    return reshape(tensor, tensor.shape[:axis] + (1,) + tensor.shape[axis:])


def permute(tensor, dims):
    dims = _sizes(dims)
    axes = tuple(_dim(d, tensor.ndim, "permute") for d in dims) if tensor.ndim else ()
    if len(dims) != tensor.ndim or sorted(axes) != list(range(tensor.ndim)):
        raise ValueError(f"permute(): dims {tuple(dims)} must name each of the {tensor.ndim} dims once")
    return Permute.apply(tensor, dims=axes)


def transpose(tensor, dim0, dim1):
    a, b = _dim(dim0, tensor.ndim, "transpose"), _dim(dim1, tensor.ndim, "transpose")
    if tensor.ndim == 0:
        return tensor
    axes = list(range(tensor.ndim))
    axes[a], axes[b] = axes[b], axes[a]
    return Permute.apply(tensor, dims=tuple(axes))


def expand(tensor, sizes):
    """The tensor broadcast to `sizes` (-1 keeps a dim's size); only dims of size 1 may grow."""
    sizes = _sizes(sizes)
    if len(sizes) < tensor.ndim:
        raise RuntimeError(
            f"expand(): the number of sizes {len(sizes)} is smaller than the tensor's "
            f"{tensor.ndim} dimensions (shape {tensor.shape})"
        )
    leading = len(sizes) - tensor.ndim
    shape = tuple(tensor.shape[i - leading] if n == -1 and i >= leading else n for i, n in enumerate(sizes))
    for i, n in enumerate(tensor.shape):
        if n != 1 and n != shape[leading + i]:
            raise RuntimeError(
                f"expand(): the size {n} of dim {i} (tensor shape {tensor.shape}) must be 1 "
                f"or match the requested size {shape[leading + i]} (sizes {tuple(sizes)})"
            )
    return tensor if shape == tensor.shape else Expand.apply(tensor, shape=shape)


def repeat(tensor, repeats):
    repeats = _sizes(repeats)
    if len(repeats) < tensor.ndim:
        raise RuntimeError(
            f"repeat(): {len(repeats)} repeat counts given for a tensor with {tensor.ndim} "
            "dimensions; give at least one per dimension"
        )
    if any(r < 0 for r in repeats):
        raise ValueError(f"repeat(): repeat counts must be >= 0, got {repeats}")
    return Repeat.apply(tensor, repeats=repeats)


def flip(tensor, dims):
    return Flip.apply(tensor, axes=_dims(_sizes(dims), tensor.ndim, "flip"))


def split(tensor, split_size, dim):
    """Pieces of `split_size` along dim (the last may be shorter), or of the sizes in a list."""
    axis = _dim(dim, tensor.ndim, "split")
    length = tensor.shape[axis]
    sizes = (
        split_size
        if isinstance(split_size, (list, tuple))
        else [min(split_size, length - start) for start in range(0, length, split_size)]
    )
    if sum(sizes) != length:
        raise ValueError(f"split(): sizes {list(sizes)} do not add up to the dim's size {length}")
    pieces, start = [], 0
    for size in sizes:
        pieces.append(tensor[(slice(None),) * axis + (slice(start, start + size),)])
        start += size
    return tuple(pieces)
