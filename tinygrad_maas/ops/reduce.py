"""Reductions over some axes: sum, mean, var, prod, amax/amin, max/min along a dim, logsumexp.

Backward of a reduction sends each output gradient back to every input element that produced it: the
output gradient is given back the reduced axes (size 1) and broadcast to the input's shape, then multiplied
by the local derivative. `axes` is always a tuple of non-negative axes (see arguments.dims).
"""

import math
from collections import namedtuple

import numpy as np

from ..autograd.function import Function
from ..tensor import make_tensor
from . import either
from .arguments import dim as _dim
from .arguments import dims as _dims

MinMaxResult = namedtuple("MinMaxResult", ["values", "indices"])  # what max(dim) / min(dim) return


def _restore_axes(grad, axes, keepdim):
    """Give a reduced gradient its reduced axes back with size 1, so it broadcasts against the input."""
    return grad if keepdim or not axes else either.expand_dims(grad, axes)


def _count(shape, axes):
    return math.prod(shape[a] for a in axes)


class Sum(Function):
    """y = sum_i x_i over `axes`.   dy/dx_i = 1: every input element gets the output gradient."""

    @staticmethod
    def forward(ctx, x, axes, keepdim=False):
        ctx.shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        return x.sum(axis=axes, keepdims=keepdim)

    @staticmethod
    def backward(ctx, grad):
        return either.broadcast_to(_restore_axes(grad, ctx.axes, ctx.keepdim), ctx.shape)


class Mean(Function):
    """y = (1/N) sum_i x_i over `axes` (N elements).   dy/dx_i = 1/N."""

    @staticmethod
    def forward(ctx, x, axes, keepdim=False):
        ctx.shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        return x.mean(axis=axes, keepdims=keepdim)

    @staticmethod
    def backward(ctx, grad):
        count = _count(ctx.shape, ctx.axes)
        scaled = _restore_axes(grad, ctx.axes, ctx.keepdim) / max(count, 1)
        return either.cast(either.broadcast_to(scaled, ctx.shape), grad.dtype)


class Var(Function):
    """y = sum_i (x_i - mean)^2 / (N - correction).

    dy/dx_i = 2 (x_i - mean) / (N - correction). (The mean's own dependence on x_i cancels: the deviations
    sum to zero.) correction=1 is Bessel's unbiased estimate, PyTorch's default. backward computes the
    deviations again from x rather than saving them: then, under create_graph, they depend on x.
    """

    saved_roles = ("x",)

    @staticmethod
    def forward(ctx, x, axes, correction=1, keepdim=False):
        ctx.axes, ctx.keepdim = axes, keepdim
        centered = x - x.mean(axis=axes, keepdims=True)
        ctx.count = _count(x.shape, axes)
        ctx.divisor = ctx.count - correction
        ctx.save_for_backward(x)
        with np.errstate(divide="ignore", invalid="ignore"):  # N <= correction gives inf/nan, as PyTorch
            return (centered * centered).sum(axis=axes, keepdims=keepdim) / x.dtype.type(ctx.divisor)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        with np.errstate(divide="ignore", invalid="ignore"):
            centered = x - either.sum_axes(x, ctx.axes, keepdims=True) / max(ctx.count, 1)
            scale = 2 / x.dtype.type(ctx.divisor)
        return _restore_axes(grad, ctx.axes, ctx.keepdim) * (scale * centered)


class Root(Function):
    """y = s^(1/n) for s >= 0: the standard deviation from the variance (n = 2), a p-norm from the sum of
    |x|^p (n = p).   dy/ds = y / (n s), and 0 where y = 0.

    Not s ** (1/n): at s = 0 (all elements equal, or a zero vector) that derivative is infinite, and inf
    times the sum's zero derivative would be nan. PyTorch's std and norm give 0 there; so do we.
    """

    saved_roles = ("s", "output")

    @staticmethod
    def forward(ctx, s, n):
        y = np.sqrt(s) if n == 2 else s ** (1.0 / n)
        ctx.n = n
        ctx.save_for_backward(s, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        s, y = ctx.saved_tensors
        with np.errstate(divide="ignore", invalid="ignore"):
            return either.keep(either.value(y) != 0, grad * y / (ctx.n * s))


class AbsPow(Function):
    """y = |x|^p, the terms of a p-norm.   dy/dx = p |x|^(p-1) sign(x), and 0 where x = 0.

    At x = 0 the slope is 0 for p > 1 and infinite for p < 1; PyTorch's norms take 0 there for every p,
    so a zero element passes no gradient (and no nan) whatever p is.
    """

    saved_roles = ("x",)

    @staticmethod
    def forward(ctx, x, p):
        ctx.p = p
        ctx.save_for_backward(x)
        return np.abs(x) ** p

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        plain = either.value(x)
        nonzero = plain != 0
        with np.errstate(divide="ignore", invalid="ignore"):  # inf * 0 at x = 0, dropped by keep
            slope = ctx.p * AbsPow.apply(x, p=ctx.p - 1) if either.is_tensor(x) else ctx.p * np.abs(x) ** (ctx.p - 1)
            return either.keep(nonzero, grad * slope * np.sign(plain))


class Prod(Function):
    """y = prod_i x_i over one axis (or all).   dy/dx_i = prod_{j != i} x_j.

    Not y / x_i: that divides by zero when some x_i = 0. The product of the others is the product of
    everything before i times everything after i: two exclusive cumulative products. (On Tensors, for
    create_graph, each product of the others is a Prod of its own, so it has a gradient too.)
    """

    saved_roles = ("x",)

    @staticmethod
    def forward(ctx, x, axis, keepdim=False):
        ctx.axis, ctx.keepdim = axis, keepdim
        ctx.save_for_backward(x)
        if axis is None:
            return x.prod()
        return x.prod(axis=axis, keepdims=keepdim)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        axis = ctx.axis
        if axis is None:  # the product of all elements: work on the flattened array
            others = _product_of_others(x.reshape(-1), 0).reshape(x.shape)
            return grad * others
        others = _product_of_others(x, axis)
        return _restore_axes(grad, (axis,), ctx.keepdim) * others


def _product_of_others(x, axis):
    """For each element, the product of all other elements along `axis`."""
    if either.is_tensor(x):
        return _product_of_others_tensor(x, axis)
    if x.shape[axis] == 0:  # nothing to multiply: an empty gradient
        return np.zeros_like(x)
    ones = np.ones_like(np.take(x, [0], axis=axis))
    before = np.cumprod(np.concatenate([ones, np.delete(x, -1, axis=axis)], axis=axis), axis=axis)
    reversed_x = np.flip(x, axis=axis)
    after = np.cumprod(np.concatenate([ones, np.delete(reversed_x, -1, axis=axis)], axis=axis), axis=axis)
    return before * np.flip(after, axis=axis)


def _product_of_others_tensor(x, axis):
    """The same as recorded ops: for each position i along `axis`, the product of x without slice i."""
    n = x.shape[axis]
    if n == 0:
        return x * 0
    others = []
    for i in range(n):
        rest = np.array([j for j in range(n) if j != i], dtype=np.int64)
        others.append(x[(slice(None),) * axis + (rest,)].prod(axis, keepdim=True))
    return _join().cat(others, axis)


def _join():
    from . import join

    return join


class AMax(Function):
    """y = max_i x_i over `axes`.   dy/dx_i = 1/k for the k elements equal to the max, 0 elsewhere.

    Ties share the gradient evenly, as PyTorch's amax/amin (and max()/min() with no dim) do.
    """

    reduce = staticmethod(np.amax)
    saved_roles = ("x", None)

    @classmethod
    def forward(cls, ctx, x, axes, keepdim=False):
        ctx.axes, ctx.keepdim = axes, keepdim
        out = cls.reduce(x, axis=axes, keepdims=True)
        ctx.save_for_backward(x, out)
        return out if keepdim else np.squeeze(out, axis=axes)

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        is_extreme = either.value(x) == out  # which elements are extreme is a constant
        share = is_extreme / is_extreme.sum(axis=ctx.axes, keepdims=True)
        with np.errstate(invalid="ignore"):  # inf * 0 is nan here, as in PyTorch, and silently so
            return _restore_axes(grad, ctx.axes, ctx.keepdim) * share.astype(grad.dtype, copy=False)


class AMin(AMax):
    """y = min_i x_i over `axes`.   dy/dx_i = 1/k for the k elements equal to the min, 0 elsewhere."""

    reduce = staticmethod(np.amin)


class TakeAlongDim(Function):
    """y = the elements of x at `indices` along one axis: max(dim)/min(dim) with the argmax/argmin indices.

    dy/dx_i = 1 at the selected index, 0 elsewhere: the gradient follows the index (PyTorch's max(dim)).
    `indices` has x's shape with size 1 along `axis` (keepdims form).
    """

    saved_roles = ("indices",)

    @staticmethod
    def forward(ctx, x, indices, axis, keepdim=False):
        ctx.shape, ctx.axis, ctx.keepdim = x.shape, axis, keepdim
        ctx.save_for_backward(indices)
        values = np.take_along_axis(x, indices, axis=axis)
        return values if keepdim else np.squeeze(values, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        (indices,) = ctx.saved_tensors
        positions = list(np.ogrid[tuple(slice(0, n) for n in indices.shape)])
        positions[ctx.axis] = indices
        return either.scatter_add(_restore_axes(grad, (ctx.axis,), ctx.keepdim), tuple(positions), ctx.shape)


class LogSumExp(Function):
    """y = log sum_i e^{x_i} over `axes`.   dy/dx_i = e^{x_i} / sum_j e^{x_j} = e^{x_i - y} (a softmax).

    Computed as m + log sum_i e^{x_i - m} with m = max x, so no exp overflows.
    """

    saved_roles = ("x", "output")

    @staticmethod
    def forward(ctx, x, axes, keepdim=False):
        shift = np.amax(x, axis=axes, keepdims=True, initial=-np.inf)
        shift = np.where(np.isfinite(shift), shift, 0).astype(x.dtype)  # all -inf (or empty): -inf, not nan
        with np.errstate(divide="ignore"):
            out = np.log(np.exp(x - shift).sum(axis=axes, keepdims=True)) + shift
        ctx.axes, ctx.keepdim = axes, keepdim
        result = out if keepdim else np.squeeze(out, axis=axes)
        ctx.save_for_backward(x, result)
        return result

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        restore = ctx.axes, ctx.keepdim
        return _restore_axes(grad, *restore) * np.exp(x - _restore_axes(out, *restore))


def require_floating(tensor, op):
    if tensor.array.dtype.kind != "f":
        raise TypeError(
            f"{op}(): needs a floating point tensor, got {tensor.dtype}; "
            "convert it with .float() or pass dtype=tm.float32"
        )


def _check_nonempty(tensor, axes, op):
    if any(tensor.shape[a] == 0 for a in axes) or (tensor.array.size == 0 and not axes):
        raise IndexError(f"{op}(): cannot reduce over a dimension of size 0 (tensor shape {tensor.shape})")


def extreme(tensor, function, dim, keepdim, op):
    """amax / amin (function: AMax or AMin) over `dim` (None: everything)."""
    axes = _dims(dim, tensor.ndim, op)
    _check_nonempty(tensor, axes, op)
    return function.apply(tensor, axes=axes, keepdim=keepdim)


def extreme_along(tensor, pick, dim, keepdim, op):
    """max(dim) / min(dim): (values, indices) along one dim; pick is np.argmax or np.argmin."""
    axis = _dim(dim, tensor.ndim, op)
    if axis is None:  # a 0-d tensor: itself, at index 0
        return MinMaxResult(tensor, make_tensor(np.zeros((), dtype=np.int64), None))
    _check_nonempty(tensor, (axis,), op)
    indices = np.asarray(pick(tensor.array, axis=axis, keepdims=True), dtype=np.int64)
    values = TakeAlongDim.apply(tensor, indices=indices, axis=axis, keepdim=keepdim)
    return MinMaxResult(values, make_tensor(indices if keepdim else np.squeeze(indices, axis=axis), None))


def arg_extreme(tensor, pick, dim, keepdim, op):
    """argmax / argmin: the index of the extreme element, over everything or along one dim."""
    if dim is None:
        _check_nonempty(tensor, (), op)
        index = np.asarray(pick(tensor.array), dtype=np.int64)
        return make_tensor(index.reshape((1,) * tensor.ndim) if keepdim else index, None)
    axis = _dim(dim, tensor.ndim, op)
    if axis is None:
        return make_tensor(np.zeros((), dtype=np.int64), None)
    _check_nonempty(tensor, (axis,), op)
    return make_tensor(np.asarray(pick(tensor.array, axis=axis, keepdims=keepdim), dtype=np.int64), None)


def norm(tensor, p="fro", dim=None, keepdim=False, dtype=None):
    """The p-norm over `dim` (None: every element): (sum |x|^p)^(1/p); "fro" and 2 are the Euclidean norm,
    inf / -inf the largest / smallest |x|, 0 the number of non-zero elements (no gradient). The gradient
    at a zero vector is 0, as in PyTorch."""
    source = tensor if dtype is None else tensor.to(dtype)
    require_floating(source, "norm")
    axes = _dims(dim, tensor.ndim, "norm")
    if p in ("fro", 2, 2.0):
        return Root.apply(Sum.apply(source * source, axes=axes, keepdim=keepdim), n=2)
    if p in (np.inf, -np.inf):
        extreme_of = AMax if p > 0 else AMin
        return extreme(source.abs(), extreme_of, dim, keepdim, "norm")
    if p == 0:
        count = np.count_nonzero(source.array, axis=axes, keepdims=keepdim)
        return make_tensor(np.asarray(count, dtype=source.dtype), None)
    if p == 1:
        return Sum.apply(source.abs(), axes=axes, keepdim=keepdim)
    if isinstance(p, str) or not np.isscalar(p):
        raise ValueError(f"norm(): p must be a number, inf or 'fro', got {p!r}")
    return Root.apply(Sum.apply(AbsPow.apply(source, p=float(p)), axes=axes, keepdim=keepdim), n=float(p))
