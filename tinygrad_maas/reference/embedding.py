"""Embedding backward in NumPy: the reference twin of kernels/embedding.py.

Forward is a row lookup, out[k] = weight[indices[k]]; its backward adds each output row's gradient into
the weight row it was read from. Rows read several times (the same token twice) get the sum: np.add.at,
not plain assignment, which would keep only the last.
"""

import numpy as np


def embedding_backward(grad, indices, num_embeddings):
    """grad: (M, D) output-row gradients; indices: (M,) int64 rows they came from -> (num_embeddings, D)."""
    grad_weight = np.zeros((num_embeddings, grad.shape[1]), dtype=grad.dtype)
    np.add.at(grad_weight, indices, grad)
    return grad_weight
