"""Ops that select elements: indexing, gather, masked_fill, where.

Selecting is linear, so each backward puts the output gradient back where its element came from and zeros
elsewhere. When one input element is selected several times (x[[0, 0]]), its gradient is the sum of all of
them: `np.add.at` accumulates over repeated indices, where a plain `grad_x[key] += grad` would keep only one.
"""

import numpy as np

from .. import dtypes
from ..autograd.function import Function
from ..conversion import plain
from ..promotion import broadcastable, promote
from ..tensor import Tensor, make_tensor
from . import either
from .arguments import dim as _dim
from .broadcast import unbroadcast


class Index(Function):
    """y = x[key] for a NumPy key (ints, slices, None, Ellipsis, integer or boolean arrays).

    dL/dx = zeros with dL/dy scattered back to the selected positions, summed over repeats (IndexAdd).
    """

    saved_roles = ("key",)

    @staticmethod
    def forward(ctx, x, key):
        ctx.shape = x.shape
        ctx.save_for_backward(key)  # may hold index arrays as large as x
        return x[key]

    @staticmethod
    def backward(ctx, grad):
        (key,) = ctx.saved_tensors
        return either.scatter_add(grad, key, ctx.shape)


class IndexAdd(Function):
    """y = zeros(shape) with g added at [key] (summed over repeated indices): Index's backward as an op.

    It is the transpose of indexing (<x[key], g> = <x, y>), so dL/dg = dL/dy[key]: Index and IndexAdd are
    each other's backward, which is what a gradient of a gradient through indexing needs.
    """

    saved_roles = ()

    @staticmethod
    def forward(ctx, grad, key, shape):
        ctx.key = key
        return scatter_add_array(grad, key, shape)

    @staticmethod
    def backward(ctx, grad):
        return grad[ctx.key]


def scatter_add_array(grad, key, shape):
    """zeros(shape) with grad added at [key], in NumPy."""
    grad_x = np.zeros(shape, dtype=grad.dtype)
    if _is_basic(key):  # slices and ints select each element at most once: plain assignment
        grad_x[key] = grad
    else:
        np.add.at(grad_x, _without_boolean_arrays(key), grad)
    return grad_x


class LinearMap(Function):
    """y = M g for a linear map M with constant coefficients, given as `apply(source, g)` and its transpose
    `transpose(source, v)` = M^T v (`source` holds the coefficients: a pool's windows, saved indices).

    dL/dg = M^T dL/dy, itself a LinearMap with the pair swapped: so pooling and embedding backwards can be
    differentiated again, to any order.
    """

    saved_roles = ()

    @staticmethod
    def forward(ctx, grad, source, apply, transpose):
        ctx.pair = source, apply, transpose
        return apply(source, grad)

    @staticmethod
    def backward(ctx, grad):
        source, apply, transpose = ctx.pair
        return either.linear(grad, source, transpose, apply)


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

    saved_roles = ("index",)

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
        positions = list(np.ogrid[tuple(slice(0, n) for n in index.shape)])
        positions[ctx.dim] = index
        return either.scatter_add(grad, tuple(positions), ctx.shape)


class MaskedFill(Function):
    """y = value where mask, x elsewhere (mask broadcasts to x).   dL/dx = dL/dy where not mask, else 0."""

    saved_roles = ("mask",)

    @staticmethod
    def forward(ctx, x, mask, value):
        ctx.save_for_backward(mask)
        return np.where(mask, np.asarray(value, dtype=x.dtype), x)

    @staticmethod
    def backward(ctx, grad):
        (mask,) = ctx.saved_tensors
        return either.keep(~mask, grad)


class Where(Function):
    """y = x where condition, else other (all three broadcast).

    dL/dx = dL/dy where condition, else 0;  dL/dother = dL/dy where not condition, else 0; each summed
    down to its input's shape.
    """

    saved_roles = ("condition",)

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
        return (
            None,
            unbroadcast(either.where(condition, grad, zero), shape_x) if need_x else None,
            unbroadcast(either.where(condition, zero, grad), shape_other) if need_other else None,
        )


def index_key(key):
    """A NumPy indexing key from a PyTorch one: tensors become arrays, lists become integer/bool arrays."""
    parts = key if isinstance(key, tuple) else (key,)
    converted = []
    for part in parts:
        if isinstance(part, Tensor):
            part = part.array
        elif isinstance(part, list):
            part = np.asarray(part) if part else np.zeros(0, dtype=np.int64)  # x[[]]: nothing, selected
        if isinstance(part, np.ndarray):
            if part.dtype.kind not in "biu":
                raise IndexError(f"tensors used as indices must be integer or bool, got {part.dtype}")
            if part.dtype.kind == "b" and part.ndim == 0:
                raise IndexError("a 0-d bool index is not supported; use a bool tensor with dimensions")
        elif isinstance(part, float):
            raise IndexError(f"indices must be integers, slices, None, Ellipsis or tensors, got the float {part}")
        converted.append(part)
    return tuple(converted) if isinstance(key, tuple) else converted[0]


def index(tensor, key):
    """tensor[key]: slices, ints, None, Ellipsis, integer and boolean arrays."""
    try:
        return Index.apply(tensor, key=index_key(key))
    except IndexError as error:
        raise IndexError(f"index out of range for a tensor of shape {tensor.shape}: {error}") from None


def masked_fill(tensor, mask, value):
    """Elements where `mask` (a bool tensor broadcastable to the tensor's shape) is True become `value`."""
    mask = plain(mask)
    if mask.dtype != np.bool_:
        raise TypeError(f"masked_fill(): mask must be a bool tensor, got {mask.dtype}")
    if not broadcastable(mask.shape, tensor.shape) or np.broadcast_shapes(mask.shape, tensor.shape) != tensor.shape:
        raise ValueError(
            f"masked_fill(): mask of shape {mask.shape} does not broadcast to the tensor's shape {tensor.shape}"
        )
    value = plain(value)
    if np.ndim(value) != 0:
        raise ValueError(f"masked_fill(): value must be a number or a 0-d tensor, got shape {np.shape(value)}")
    return MaskedFill.apply(tensor, mask=mask, value=value)


def _index_along(tensor, dim, index, op, source=None):
    """(axis, index as int64) for gather/scatter, checked as PyTorch checks them: an integer index with the
    tensor's number of dims, no larger than the tensor (and than `source`) along the other dims, and every
    entry in range along `dim`."""
    axis = _dim(dim, tensor.ndim, op)
    index = plain(index)
    if not isinstance(index, np.ndarray) or index.dtype.kind not in "iu":
        raise TypeError(f"{op}(): index must be an integer tensor (int64), got {getattr(index, 'dtype', index)!r}")
    if index.ndim != tensor.ndim:
        raise ValueError(
            f"{op}(): index has {index.ndim} dims but the tensor has {tensor.ndim} "
            f"(shapes {index.shape} and {tensor.shape})"
        )
    for d, (n_index, n_self) in enumerate(zip(index.shape, tensor.shape)):
        if d != axis and n_index > n_self:
            raise ValueError(
                f"{op}(): index size {n_index} at dim {d} exceeds the tensor's size "
                f"{n_self} there (shapes {index.shape} and {tensor.shape})"
            )
    if source is not None and (source.ndim != index.ndim or any(i > n for i, n in zip(index.shape, source.shape))):
        raise ValueError(
            f"{op}(): src of shape {source.shape} must have the index's number of dims and be at least as "
            f"large as the index (shape {index.shape}) in every dim"
        )
    if index.size and (index.min() < 0 or index.max() >= max(tensor.shape[axis] if tensor.ndim else 1, 1)):
        bad = index.min() if index.min() < 0 else index.max()
        size = tensor.shape[axis] if tensor.ndim else 1
        raise IndexError(f"{op}(): index {bad} is out of bounds for dim {dim} with size {size}")
    return axis, index.astype(np.int64, copy=False)


def gather(tensor, dim, index):
    """out[i][j] = tensor[index[i][j]][j] for dim 0, tensor[i][index[i][j]] for dim 1 (and so on)."""
    axis, index = _index_along(tensor, dim, index, "gather")
    return Gather.apply(tensor, dim=axis, index=index)


def _positions(index, axis):
    """The full NumPy key that `index` along `axis` stands for: out[.., index[i, j], ..] at each (i, j)."""
    positions = list(np.ogrid[tuple(slice(0, n) for n in index.shape)])
    positions[axis] = index
    return tuple(positions)


class Scatter(Function):
    """y = x, then y[index[i][j]][j] = src[i][j] for dim 0 (the index replaces the coordinate along `dim`).

    dL/dx = dL/dy where nothing was written, 0 where src overwrote x;  dL/dsrc[i][j] = dL/dy[index[i][j]][j]
    (a gather of the gradient through the same index). With `add=True` (scatter_add) y = x plus src added
    at the positions, summed over repeats, and dL/dx = dL/dy. With repeated positions and add=False the
    last write wins here; PyTorch leaves that order undefined.
    """

    saved_roles = ("index",)

    @staticmethod
    def forward(ctx, x, src, index, dim, add):
        corner = tuple(slice(0, n) for n in index.shape)
        positions = _positions(index, dim)
        ctx.dim, ctx.add, ctx.src_shape = dim, add, np.shape(src)
        ctx.save_for_backward(index)
        out = x.copy()
        values = src[corner] if np.ndim(src) else np.broadcast_to(src, index.shape)
        if add:
            np.add.at(out, positions, values)
        else:
            out[positions] = values
            ctx.written = np.zeros(x.shape, dtype=bool)
            ctx.written[positions] = True
        return out

    @staticmethod
    def backward(ctx, grad):
        (index,) = ctx.saved_tensors
        need_x, need_src = ctx.needs_input_grad
        grad_x = None
        if need_x:
            grad_x = grad if ctx.add else either.keep(~ctx.written, grad)
        grad_src = None
        if need_src:
            picked = (
                Gather.apply(grad, dim=ctx.dim, index=index)
                if either.is_tensor(grad)
                else (np.take_along_axis(grad, index, axis=ctx.dim))
            )
            widths = [(0, n - i) for n, i in zip(ctx.src_shape, index.shape)]
            grad_src = either.pad(picked, widths) if any(w for _, w in widths) else picked
        return grad_x, grad_src


def scatter(tensor, dim, index, src=None, value=None, reduce=None, add=False, op="scatter"):
    """PyTorch's scatter(dim, index, src), scatter(dim, index, value=v) and scatter_add(dim, index, src)."""
    if reduce is not None:
        raise NotImplementedError(f"{op}(): reduce={reduce!r} is not supported; use scatter_add for 'add'")
    if tensor.ndim == 0:
        raise ValueError(f"{op}(): needs a tensor with at least one dim, got a 0-d tensor")
    if isinstance(src, Tensor):
        if src.dtype != tensor.dtype:
            raise TypeError(f"{op}(): src has dtype {src.dtype} but the tensor has {tensor.dtype}; they must match")
        axis, index = _index_along(tensor, dim, index, op, source=src)
    else:
        number = plain(value if src is None else src)
        if number is None or np.ndim(number) != 0:
            raise TypeError(f"{op}(): give src as a tensor, or value as a number; got {number!r:.60}")
        axis, index = _index_along(tensor, dim, index, op)
        src = np.asarray(number, dtype=tensor.dtype)
    return Scatter.apply(tensor, src, index=index, dim=axis, add=add)


def where(condition, input, other):
    """input where condition is True, else other; all three broadcast. Gradients flow to input and other."""
    condition = plain(condition)
    if not isinstance(condition, np.ndarray) or condition.dtype != np.bool_:
        raise TypeError(f"where(): condition must be a bool tensor, got {getattr(condition, 'dtype', type(condition))}")
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        input = make_tensor(np.asarray(input, dtype=dtypes.scalar_dtype(input)), None)
    input, other = promote(input, other, "where")
    shapes = condition.shape, np.shape(plain(input)), np.shape(plain(other))
    if not broadcastable(*shapes):
        raise ValueError(
            f"where(): shapes {shapes[0]}, {shapes[1]} and {shapes[2]} (condition, input, other) "
            "cannot be broadcast together"
        )
    return Where.apply(condition, input, other)
