"""Matrix product with PyTorch's (and NumPy's) matmul rules.

    C = A @ B          dL/dA = dL/dC @ B^T        dL/dB = A^T @ dL/dC

The products are np.matmul (OpenBLAS; backend.matmul_transposed says why no kernel is chosen here). A 1-D
operand is a vector: on the left it becomes a row (1, k), on the right a column (k, 1), and that
axis is dropped from the result. Leading (batch) axes broadcast; backward sums the gradient over the batch
axes an operand was broadcast along (`unbroadcast`).
"""

import numpy as np

from ..autograd.function import Function
from .broadcast import unbroadcast


class MatMul(Function):
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
            grad = np.expand_dims(grad, -1)
        if a.ndim == 1:
            grad = np.expand_dims(grad, -2)
        grad_a = grad_b = None
        if need_a:
            grad_a = unbroadcast(np.matmul(grad, np.swapaxes(b2, -1, -2)), a2.shape).reshape(a.shape)
        if need_b:
            grad_b = unbroadcast(np.matmul(np.swapaxes(a2, -1, -2), grad), b2.shape).reshape(b.shape)
        return grad_a, grad_b
