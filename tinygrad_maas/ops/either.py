"""What a backward computes with, for NumPy arrays and Tensors alike.

A backward runs on arrays for a first-order gradient and on Tensors under create_graph=True (see
autograd/function.py). Arithmetic and NumPy ufuncs already work on both; the few other things backwards do
(sum over axes, reshape, transpose, select with a mask, scatter to indices, cast) are here: on an array
each is the NumPy call, on a Tensor the op that records it. Masks and indices are never differentiated, so
`value` gives the array behind either.
"""

import numpy as np

from .. import backend
from ..tensor import Tensor


def is_tensor(x):
    return isinstance(x, Tensor)


def value(x):
    """The NumPy array (or number) behind x: for masks and indices, which carry no gradient."""
    return x.array if is_tensor(x) else x


def sum_axes(x, axes, keepdims=False):
    if not isinstance(x, Tensor):
        return x.sum(axis=axes, keepdims=keepdims)
    return _reduce.Sum.apply(x, axes=tuple(a % x.ndim for a in axes), keepdim=keepdims)


def reshape(x, shape):
    if not isinstance(x, Tensor):
        return x.reshape(shape)
    shape = tuple(shape)
    return x if x.shape == shape else _shape.Reshape.apply(x, shape=shape)


def expand_dims(x, axes):
    """x with new axes of size 1 at `axes` (positions in the result)."""
    if not isinstance(x, Tensor):
        return np.expand_dims(x, axes)
    shape = list(x.shape)
    for axis in sorted(a % (x.ndim + len(axes)) for a in axes):
        shape.insert(axis, 1)
    return reshape(x, shape)


def broadcast_to(x, shape):
    if not isinstance(x, Tensor):
        return np.broadcast_to(x, shape)
    return x if x.shape == tuple(shape) else _shape.Expand.apply(x, shape=tuple(shape))


def transpose(x, axes):
    if not isinstance(x, Tensor):
        return np.transpose(x, axes)
    return _shape.Permute.apply(x, dims=tuple(axes))


def swapaxes(x, first, second):
    if not isinstance(x, Tensor):
        return np.swapaxes(x, first, second)
    order = list(range(x.ndim))
    order[first], order[second] = order[second], order[first]
    return transpose(x, order)


def moveaxis(x, source, destination):
    if not isinstance(x, Tensor):
        return np.moveaxis(x, source, destination)
    order = [a for a in range(x.ndim) if a != source % x.ndim]
    order.insert(destination % x.ndim, source % x.ndim)
    return transpose(x, order)


def flip(x, axes):
    if not isinstance(x, Tensor):
        return np.flip(x, axes)
    return _shape.Flip.apply(x, axes=axes)


def where(condition, a, b):
    """a where `condition` (an array) holds, else b; a and b arrays, numbers or Tensors."""
    if not (is_tensor(a) or is_tensor(b)):
        return np.where(condition, a, b)
    return _indexing.where(np.asarray(condition), a, b)


def keep(mask, grad):
    """grad where `mask` (an array) holds, 0 elsewhere: the backward of every op that passes some elements
    and blocks others (relu, clamp, maximum, masked_fill). Selecting instead of multiplying by the 0/1 mask
    keeps a blocked element at 0 when the upstream gradient there is infinite or nan (inf * 0 would be nan),
    as PyTorch does."""
    if not isinstance(grad, Tensor):
        if np.shape(mask) == grad.shape and grad.dtype in (np.float32, np.float64):  # numba's float types
            return backend.kernels("elementwise").keep(mask, grad)
        return np.where(mask, grad, np.zeros((), dtype=grad.dtype))
    return _indexing.where(np.asarray(mask), grad, 0.0)


def keep_positive(values, grad):
    """keep(values > 0, grad) for an array `values` of grad's shape: one pass on the numba kernels."""
    if not isinstance(grad, Tensor) and values.shape == grad.shape and grad.dtype in (np.float32, np.float64):
        return backend.kernels("elementwise").keep_positive(values, grad)
    return keep(values > 0, grad)


def cast(x, dtype):
    if not isinstance(x, Tensor):
        return x.astype(dtype, copy=False)
    return x if x.dtype == dtype else _unary.ToDtype.apply(x, dtype=dtype)


def zeros_like(x):
    return np.zeros_like(value(x))


def pad(x, widths):
    """x with zeros added: widths[i] = (before, after) for axis i."""
    if not isinstance(x, Tensor):
        return np.pad(x, widths, mode="constant")
    return _join.ConstantPad.apply(x, widths=tuple(tuple(w) for w in widths))


def split(x, boundaries, axis):
    if not isinstance(x, Tensor):
        return np.split(x, boundaries, axis=axis)
    edges = [0, *boundaries, x.shape[axis]]
    return [x[(slice(None),) * axis + (slice(int(start), int(end)),)] for start, end in zip(edges[:-1], edges[1:])]


def scatter_add(grad, key, shape):
    """zeros(shape) with grad added at x[key] (summed over repeated indices): the transpose of x[key]."""
    if not isinstance(grad, Tensor):
        return _indexing.scatter_add_array(grad, key, shape)
    return _indexing.IndexAdd.apply(grad, key=key, shape=tuple(shape))


def linear(grad, ctx, apply, transpose):
    """apply(ctx, grad) for a map linear in grad whose coefficients are constants (pool windows, saved
    indices): on a Tensor, recorded as one op whose backward is `transpose`, the map's adjoint."""
    if not isinstance(grad, Tensor):
        return apply(ctx, grad)
    return _indexing.LinearMap.apply(grad, source=ctx, apply=apply, transpose=transpose)


# Imported last: these modules import this one.
from . import indexing as _indexing  # noqa: E402
from . import join as _join  # noqa: E402
from . import reduce as _reduce  # noqa: E402
from . import shape as _shape  # noqa: E402
from . import unary as _unary  # noqa: E402
