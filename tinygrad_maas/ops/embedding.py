"""Embedding: look up rows of a weight matrix by integer index.

    out[..., :] = weight[indices[...], :]
    dL/dweight[r] = sum of dL/dout[k] over every position k with indices[k] == r   (a scatter-add)
    (rows at padding_idx get no gradient, as in PyTorch)

The lookup is NumPy fancy indexing; the scatter-add is the backend's kernel (kernels/embedding.py or its
twin in reference/embedding.py). Indices are checked before the kernel runs, so it never reads out of
bounds.
"""

import numpy as np

from .. import backend
from ..autograd.function import Function
from . import either


class Embedding(Function):
    """out = weight[indices].   dL/dweight = the output gradient scatter-added to the rows it came from."""

    saved_roles = ("indices",)

    @staticmethod
    def forward(ctx, weight, indices, padding_idx=None):
        ctx.num_embeddings, ctx.padding_idx = weight.shape[0], padding_idx
        ctx.save_for_backward(indices)
        return weight[indices]

    @staticmethod
    def backward(ctx, grad):
        return either.linear(grad, ctx, Embedding.scatter_rows, Embedding.gather_rows)

    @staticmethod
    def scatter_rows(ctx, grad):
        """The gradient of weight: each output row added into the weight row it was read from."""
        (indices,) = ctx.saved_tensors
        width = grad.shape[-1]
        grad_weight = backend.kernels("embedding").embedding_backward(
            grad.reshape(-1, width), indices.reshape(-1), ctx.num_embeddings
        )
        if ctx.padding_idx is not None:
            grad_weight[ctx.padding_idx] = 0
        return grad_weight

    @staticmethod
    def gather_rows(ctx, rows):
        """The transpose of scatter_rows: read the rows back (zero at padding_idx)."""
        (indices,) = ctx.saved_tensors
        out = rows[indices]
        if ctx.padding_idx is not None:
            out = out * (indices != ctx.padding_idx)[..., None]
        return np.ascontiguousarray(out)
