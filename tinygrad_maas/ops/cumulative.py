"""Running sums along a dim: cumsum.

y_i = x_0 + ... + x_i, so x_j reaches every y_i with i >= j:

    dL/dx_j = sum_{i >= j} dL/dy_i

the running sum of the gradient taken from the other end (flip, cumsum, flip), itself a cumsum: the
gradient of a gradient follows the same op.
"""

import numpy as np

from .. import dtypes
from ..autograd.function import Function
from . import either
from .arguments import dim as _dim


class Cumsum(Function):
    """y_i = sum_{k <= i} x_k along `axis`.   dL/dx_j = sum_{i >= j} dL/dy_i (a reversed running sum)."""

    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis
        return np.cumsum(x, axis=axis, dtype=x.dtype)

    @staticmethod
    def backward(ctx, grad):
        return either.flip(running_sum(either.flip(grad, (ctx.axis,)), ctx.axis), (ctx.axis,))


def running_sum(x, axis):
    """cumsum of an array or, in the graph, of a Tensor."""
    if not either.is_tensor(x):
        return np.cumsum(x, axis=axis)
    return Cumsum.apply(x, axis=axis)


def cumsum(tensor, dim, dtype=None):
    """Running sums along `dim`; bool and integer tensors sum as int64, as in PyTorch."""
    source = tensor if dtype is None else tensor.to(dtype)
    if source.dtype.kind in "biu":
        source = source.to(dtypes.int64)
    axis = _dim(dim, tensor.ndim, "cumsum")
    if axis is None:  # a 0-d tensor is its own running sum
        return source.clone()
    return Cumsum.apply(source, axis=axis)
