"""The affine map of a Linear layer as one op (PyTorch's addmm), instead of transpose, matmul and add.

    y = x W^T + b          x: (*, in)    W: (out, in)    b: (out,)    y: (*, out)

With the leading axes flattened (X: (m, in), G = dL/dy: (m, out)), the chain rule gives

    dL/dX = G W            (m, out) @ (out, in)
    dL/dW = G^T X          (out, m) @ (m, in): every weight W[o, i] met x[r, i] in every row r of output o
    dL/db = sum_r G[r]     b was added to every row

dL/dW comes out in W's own (out, in) layout, contiguous. Written as `x @ W.T`, the matmul would produce
the gradient of W^T and the transpose would hand back a strided view of it, which an optimizer's fused
update cannot walk as one flat array. One graph node instead of three also saves the bookkeeping of two
ops (a few microseconds each, docs/benchmarks.md).
"""

import numpy as np

from ..autograd.function import Function
from . import either

FEW_ROWS = 64  # up to this many rows, forward computes (W X^T)^T: see Linear.forward


class Linear(Function):
    """y = x W^T + b.   dL/dx = G W,  dL/dW = G^T X,  dL/db = sum_r G[r]  (see the module docstring)."""

    saved_roles = ("x", "weight")

    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x, weight)
        # One GEMM over all leading axes: np.matmul of a 3-D x would run one small GEMM per leading index.
        rows = x.reshape(-1, x.shape[-1])
        if rows.shape[0] <= FEW_ROWS:
            # For a few rows OpenBLAS computes W X^T (few columns) faster than X W^T (few rows): 1.5 - 1.7x
            # at 17 rows (a sentence through MiniLM), 1.04 - 1.14x at 64, mixed at 128 (docs/kernels.md, "Matmul").
            out = np.ascontiguousarray(np.matmul(weight, rows.T).T)
        else:
            out = np.matmul(rows, weight.T)
        out = out.reshape(*x.shape[:-1], weight.shape[0])
        if bias is not None:
            out += bias  # out is a new array
        return out

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        need_x, need_weight, need_bias = ctx.needs_input_grad
        out_features, in_features = weight.shape
        rows = either.reshape(grad, (-1, out_features))  # G: (m, out)
        grad_x = either.reshape(rows @ weight, x.shape) if need_x else None
        grad_weight = rows.T @ either.reshape(x, (-1, in_features)) if need_weight else None
        grad_bias = either.sum_axes(rows, (0,)) if need_bias else None
        return grad_x, grad_weight, grad_bias
