"""Embedding backward (a scatter-add of rows) as a numba kernel: twin of reference/embedding.py.

Parallel over blocks of columns, not over rows: two output rows may share a token and so a weight row,
but a column block belongs to one thread, so no two threads ever add into the same element.
"""

import numpy as np
from numba import njit, prange

from .threads import launch

# Elements of the output gradient below which the calling thread alone beats waking numba's threads
# (threads.launch).
THREADS_FROM = 1 << 18


_COLUMNS_PER_BLOCK = 16


@njit(parallel=True, cache=True, error_model="numpy")
def _scatter_add_rows(grad, indices, grad_weight):
    width = grad.shape[1]
    blocks = (width + _COLUMNS_PER_BLOCK - 1) // _COLUMNS_PER_BLOCK
    for block in prange(blocks):
        start = block * _COLUMNS_PER_BLOCK
        stop = min(start + _COLUMNS_PER_BLOCK, width)
        for k in range(grad.shape[0]):
            row = indices[k]
            for d in range(start, stop):
                grad_weight[row, d] += grad[k, d]


def embedding_backward(grad, indices, num_embeddings):
    grad_weight = np.zeros((num_embeddings, grad.shape[1]), dtype=grad.dtype)
    launch(
        _scatter_add_rows,
        grad.size,
        THREADS_FROM,
        np.ascontiguousarray(grad),
        np.ascontiguousarray(indices),
        grad_weight,
    )
    return grad_weight
