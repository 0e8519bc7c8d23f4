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

from .. import backend
from ..autograd.function import Function
from . import either

FEW_ROWS = 64  # up to this many rows, the product is computed as (W X^T)^T: see Linear.product


class Linear(Function):
    """y = x W^T + b.   dL/dx = G W,  dL/dW = G^T X,  dL/db = sum_r G[r]  (see the module docstring)."""

    saved_roles = ("x", "weight")

    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x, weight)
        out = Linear.product(x, weight)
        if bias is not None:
            out += bias  # out is a new array
        return out

    @staticmethod
    def product(x, weight):
        """x W^T as a new C-contiguous array of shape (*, out)."""
        # One GEMM over all leading axes: np.matmul of a 3-D x would run one small GEMM per leading index.
        rows = x.reshape(-1, x.shape[-1])
        if rows.shape[0] <= FEW_ROWS:
            # For a few rows OpenBLAS computes W X^T (few columns) faster than X W^T (few rows): 1.5 - 1.7x
            # at 17 rows (a sentence through MiniLM), 1.04 - 1.14x at 64, mixed at 128 (docs/kernels.md, "Matmul").
            out = np.ascontiguousarray(np.matmul(weight, rows.T).T)
        else:
            out = np.matmul(rows, weight.T)
        return out.reshape(*x.shape[:-1], weight.shape[0])

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        return Linear.gradients(ctx, grad, x, weight)

    @staticmethod
    def gradients(ctx, grad, x, weight):
        """(dL/dx, dL/dW, dL/db) from G = dL/dy (None for any input that needs none), on arrays or Tensors."""
        need_x, need_weight, need_bias = ctx.needs_input_grad
        out_features, in_features = weight.shape
        rows = either.reshape(grad, (-1, out_features))  # G: (m, out)
        grad_x = either.reshape(rows @ weight, x.shape) if need_x else None
        grad_weight = rows.T @ either.reshape(x, (-1, in_features)) if need_weight else None
        grad_bias = either.sum_axes(rows, (0,)) if need_bias else None
        return grad_x, grad_weight, grad_bias


class LinearRelu(Function):
    """y = relu(x W^T + b) as one op: nn.Sequential's Linear, ReLU (nn/fusion.py). The bias and the ReLU
    are one pass over the GEMM's output (kernels/elementwise.py, bias_relu_) and one graph node, where the
    two ops make two passes, two nodes and a second output array.

    With G = dL/dy:   dL/dz = G where y > 0, else 0   (z = x W^T + b; y > 0 exactly where z > 0)
    and from dL/dz the gradients of Linear (above).
    """

    saved_roles = ("x", "weight", "output")

    @staticmethod
    def forward(ctx, x, weight, bias):
        out = Linear.product(x, weight)
        shift = np.zeros(weight.shape[0], dtype=out.dtype) if bias is None else bias
        backend.kernels("elementwise").bias_relu_(out.reshape(-1, weight.shape[0]), shift)
        ctx.save_for_backward(x, weight, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, weight, y = ctx.saved_tensors
        return Linear.gradients(ctx, either.keep_positive(either.value(y), grad), x, weight)
