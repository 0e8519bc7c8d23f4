"""Matrix product with PyTorch's (and NumPy's) matmul rules.

    C = A @ B          dL/dA = dL/dC @ B^T        dL/dB = A^T @ dL/dC

The products are np.matmul (OpenBLAS; backend.matmul_transposed says why no kernel is chosen here). A 1-D
operand is a vector: on the left it becomes a row (1, k), on the right a column (k, 1), and that
axis is dropped from the result. Leading (batch) axes broadcast; backward sums the gradient over the batch
axes an operand was broadcast along (`unbroadcast`).
"""

import numpy as np

from ..autograd.function import Function
from ..promotion import broadcastable, promote
from ..tensor import Tensor
from . import either
from .broadcast import unbroadcast


class MatMul(Function):
    """C = A @ B.   dL/dA = dL/dC @ B^T,  dL/dB = A^T @ dL/dC  (summed over broadcast batch axes)."""

    saved_roles = ("a", "b")

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.matmul(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        # Work with matrices: a vector operand becomes a row/column, and grad gets the dropped axis back.
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        if b.ndim == 1:  # restore the column axis first: for vector @ vector, grad is 0-d
            grad = either.expand_dims(grad, (-1,))
        if a.ndim == 1:
            grad = either.expand_dims(grad, (-2,))
        grad_a = grad_b = None
        if need_a:
            grad_a = either.reshape(unbroadcast(grad @ either.swapaxes(b2, -1, -2), a2.shape), a.shape)
        if need_b:
            grad_b = either.reshape(unbroadcast(either.swapaxes(a2, -1, -2) @ grad, b2.shape), b.shape)
        return grad_a, grad_b


def matmul(a, b):
    """a @ b with PyTorch's rules for 1-D, 2-D and batched operands, the shapes checked first."""
    a, b = promote(a, b, "matmul")
    if not (isinstance(a, Tensor) and isinstance(b, Tensor)):
        raise TypeError("matmul: both operands must be tensors (or arrays), not Python numbers")
    shape_a, shape_b = a.shape, b.shape
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: both arguments need at least one dimension, got shapes {shape_a} and {shape_b}")
    inner_a = shape_a[-1]
    inner_b = shape_b[0] if b.ndim == 1 else shape_b[-2]
    if inner_a != inner_b:
        raise ValueError(
            f"matmul: shapes {shape_a} and {shape_b} cannot be multiplied "
            f"({inner_a} columns on the left, {inner_b} rows on the right)"
        )
    batch_a, batch_b = shape_a[:-2], shape_b[:-2]
    if not broadcastable(batch_a, batch_b):
        raise ValueError(
            f"matmul: batch dimensions {batch_a} and {batch_b} of shapes {shape_a} and {shape_b} "
            "cannot be broadcast together"
        )
    return MatMul.apply(a, b)
