"""Matrix multiply in NumPy: the reference twin of kernels/matmul.py, C[i, j] = sum_p A[i, p] B[p, j].

np.matmul is the definition (and OpenBLAS underneath is what the framework dispatches to; see
ops/matmul.py and docs/kernels.md for the measurements behind that choice).
"""

import numpy as np


def matmul(a, b):
    """a @ b for 2-D a (M, K) and b (K, N), or batched (..., M, K) @ (..., K, N) with broadcast batch dims."""
    return np.matmul(a, b)


def matmul_transposed(a, bt):
    """a @ bt.T for 2-D a (M, K) and bt (N, K)."""
    if a.ndim != 2 or bt.ndim != 2 or a.shape[1] != bt.shape[1]:
        raise ValueError(f"matmul: shapes {a.shape} and {bt.shape} (transposed) cannot be multiplied")
    return a @ bt.T
