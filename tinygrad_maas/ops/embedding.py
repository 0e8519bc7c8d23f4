"""Embedding: look up rows of a weight matrix by integer index.

    out[..., :] = weight[indices[...], :]
    dL/dweight[r] = sum of dL/dout[k] over every position k with indices[k] == r   (a scatter-add)
    (rows at padding_idx get no gradient, as in PyTorch)

The lookup is NumPy fancy indexing; the scatter-add is the backend's kernel (kernels/embedding.py or its
twin in reference/embedding.py). Indices are checked before the kernel runs, so it never reads out of
bounds.
"""

from .. import backend
from ..autograd.function import Function


class Embedding(Function):
    @staticmethod
    def forward(ctx, weight, indices, padding_idx=None):
        ctx.num_embeddings, ctx.padding_idx = weight.shape[0], padding_idx
        ctx.save_for_backward(indices)
        return weight[indices]

    @staticmethod
    def backward(ctx, grad):
        (indices,) = ctx.saved_tensors
        width = grad.shape[-1]
        grad_weight = backend.kernels("embedding").embedding_backward(
            grad.reshape(-1, width), indices.reshape(-1), ctx.num_embeddings
        )
        if ctx.padding_idx is not None:
            grad_weight[ctx.padding_idx] = 0
        return grad_weight
