"""A register-tiled matrix multiply in numba, written to be read: twin of reference/matmul.py.

    C[i, j] = sum_p A[i, p] B[p, j]

1. Pack B transposed (Bt = B^T, contiguous), so that both A's rows and Bt's rows run along p: every
   inner-loop load is sequential.
2. Compute C in 4 x 4 tiles: 16 running sums stay in registers while p runs, each loaded A value is used 4
   times and each B value 4 times (16 multiply-adds per 8 loads instead of 1 per 2). fastmath lets LLVM
   reorder each sum into SIMD lanes (AVX-512: 16 floats at once). The sums start from a zero of C's dtype:
   starting from `a[0, 0] * 0` (an int times a float32, which numba types float64) made every float32 sum a
   float64 one, with a conversion per product, and the kernel ran at a third of the speed.
3. Walk C in column blocks of 64 so the 64 rows of Bt in use stay in L2 while all row tiles pass over
   them; row tiles are split between threads (prange).

Measured (docs/kernels.md): about 130 GFLOP/s in float32 and 76 in float64 at 1024 x 1024 on 2 cores
(65% and 72% of OpenBLAS's 202 and 105). BLAS is faster at every size, so the framework's matmul
dispatches to NumPy (tinygrad_maas/ops/matmul.py); this kernel is here to learn from and to measure against.
"""

import numpy as np
from numba import njit, prange

_TILE = 4
_COLUMN_BLOCK = 64


@njit(cache=True, error_model="numpy", fastmath=True, inline="always")
def _tile(a, bt, c, i, j, depth):
    """The 4 x 4 tile of C at (i, j): 16 sums over p, held in registers."""
    zero = c.dtype.type(0)  # in C's dtype: `a[0, 0] * 0` would be float64 (int * float32) and halve the speed
    s00 = s01 = s02 = s03 = s10 = s11 = s12 = s13 = zero
    s20 = s21 = s22 = s23 = s30 = s31 = s32 = s33 = zero
    for p in range(depth):
        x0, x1, x2, x3 = a[i, p], a[i + 1, p], a[i + 2, p], a[i + 3, p]
        y0, y1, y2, y3 = bt[j, p], bt[j + 1, p], bt[j + 2, p], bt[j + 3, p]
        s00 += x0 * y0
        s01 += x0 * y1
        s02 += x0 * y2
        s03 += x0 * y3
        s10 += x1 * y0
        s11 += x1 * y1
        s12 += x1 * y2
        s13 += x1 * y3
        s20 += x2 * y0
        s21 += x2 * y1
        s22 += x2 * y2
        s23 += x2 * y3
        s30 += x3 * y0
        s31 += x3 * y1
        s32 += x3 * y2
        s33 += x3 * y3
    c[i, j], c[i, j + 1], c[i, j + 2], c[i, j + 3] = s00, s01, s02, s03
    c[i + 1, j], c[i + 1, j + 1], c[i + 1, j + 2], c[i + 1, j + 3] = s10, s11, s12, s13
    c[i + 2, j], c[i + 2, j + 1], c[i + 2, j + 2], c[i + 2, j + 3] = s20, s21, s22, s23
    c[i + 3, j], c[i + 3, j + 1], c[i + 3, j + 2], c[i + 3, j + 3] = s30, s31, s32, s33


@njit(cache=True, error_model="numpy", fastmath=True)
def _edge(a, bt, c, i0, i1, j0, j1, depth):
    """The ragged rows/columns that do not fill a whole tile: one dot product per element."""
    for i in range(i0, i1):
        for j in range(j0, j1):
            total = c.dtype.type(0)
            for p in range(depth):
                total += a[i, p] * bt[j, p]
            c[i, j] = total


@njit(parallel=True, cache=True, error_model="numpy", fastmath=True)
def _matmul_packed(a, bt, c):
    m, depth = a.shape
    n = bt.shape[0]
    full_rows, full_columns = m - m % _TILE, n - n % _TILE
    for j0 in range(0, full_columns, _COLUMN_BLOCK):
        j1 = min(j0 + _COLUMN_BLOCK, full_columns)
        for row_tile in prange(full_rows // _TILE):
            for j in range(j0, j1, _TILE):
                _tile(a, bt, c, row_tile * _TILE, j, depth)
    _edge(a, bt, c, 0, full_rows, full_columns, n, depth)  # right edge
    _edge(a, bt, c, full_rows, m, 0, n, depth)  # bottom edge


def matmul(a, b):
    """a @ b for 2-D a (M, K) and b (K, N), or batched (..., M, K) @ (..., K, N) with broadcast batch dims."""
    if a.ndim < 2 or b.ndim < 2 or a.shape[-1] != b.shape[-2]:  # checked here: the kernel itself would read
        raise ValueError(f"matmul kernel: shapes {a.shape} and {b.shape} cannot be multiplied")  # out of bounds
    if a.ndim == 2 and b.ndim == 2:
        c = np.empty((a.shape[0], b.shape[1]), dtype=np.result_type(a, b))
        if c.size:
            if a.shape[1] == 0:
                c[...] = 0
            else:
                _matmul_packed(np.ascontiguousarray(a, dtype=c.dtype), np.ascontiguousarray(b.T, dtype=c.dtype), c)
        return c
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    a_batched = np.broadcast_to(a, batch + a.shape[-2:])
    b_batched = np.broadcast_to(b, batch + b.shape[-2:])
    out = np.empty(batch + (a.shape[-2], b.shape[-1]), dtype=np.result_type(a, b))
    for index in np.ndindex(*batch):
        out[index] = matmul(a_batched[index], b_batched[index])
    return out
