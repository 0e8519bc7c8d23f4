"""A register-tiled matrix multiply in numba, written to be read: twin of reference/matmul.py.

    C[i, j] = sum_p A[i, p] B[p, j]

1. Pack B transposed (Bt = B^T, contiguous, copied in cache-sized blocks), so that both A's rows and
   Bt's rows run along p: every inner-loop load is sequential.
2. Compute C in 6 x 4 tiles: 24 running sums stay in registers while p runs, each loaded A value is used 4
   times and each B value 6 times (24 multiply-adds per 10 loads instead of 1 per 2). fastmath lets LLVM
   reorder each sum into SIMD lanes (AVX-512: 16 floats at once). The sums start from a zero of C's dtype:
   starting from `a[0, 0] * 0` (an int times a float32, which numba types float64) made every float32 sum a
   float64 one, with a conversion per product, and the kernel ran at a third of the speed. Rows left
   below the last tile go 1 x 4 at a time, the last n % 4 columns one dot product per element.
3. Walk C in column blocks of 64 so the 64 rows of Bt in use stay in L2 while the tiles pass over them;
   threads share out every tile of a block (prange), so even a C of a few rows keeps both cores busy.

BLAS measured faster on square matrices of every size (docs/kernels.md has the figures), so the framework's
general matmul is NumPy's; this kernel computes a convolution's weight gradient (few rows of C, a long
shared axis: `matmul_transposed`), where it measured faster than BLAS (tinygrad_maas/backend.py picks by
shape).
"""

import numpy as np
from numba import njit, prange

_TILE_ROWS, _TILE_COLUMNS = 6, 4
_COLUMN_BLOCK = 64


@njit(cache=True, error_model="numpy", fastmath=True, inline="always")
def _tile(a, bt, c, i, j, depth):
    """The 6 x 4 tile of C at (i, j): 24 sums over p, held in registers."""
    zero = c.dtype.type(0)  # in C's dtype: `a[0, 0] * 0` would be float64 (int * float32) and cost 3x
    s00 = s01 = s02 = s03 = s10 = s11 = s12 = s13 = s20 = s21 = s22 = s23 = zero
    s30 = s31 = s32 = s33 = s40 = s41 = s42 = s43 = s50 = s51 = s52 = s53 = zero
    for p in range(depth):
        x0, x1, x2, x3, x4, x5 = a[i, p], a[i + 1, p], a[i + 2, p], a[i + 3, p], a[i + 4, p], a[i + 5, p]
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
        s40 += x4 * y0
        s41 += x4 * y1
        s42 += x4 * y2
        s43 += x4 * y3
        s50 += x5 * y0
        s51 += x5 * y1
        s52 += x5 * y2
        s53 += x5 * y3
    c[i, j], c[i, j + 1], c[i, j + 2], c[i, j + 3] = s00, s01, s02, s03
    c[i + 1, j], c[i + 1, j + 1], c[i + 1, j + 2], c[i + 1, j + 3] = s10, s11, s12, s13
    c[i + 2, j], c[i + 2, j + 1], c[i + 2, j + 2], c[i + 2, j + 3] = s20, s21, s22, s23
    c[i + 3, j], c[i + 3, j + 1], c[i + 3, j + 2], c[i + 3, j + 3] = s30, s31, s32, s33
    c[i + 4, j], c[i + 4, j + 1], c[i + 4, j + 2], c[i + 4, j + 3] = s40, s41, s42, s43
    c[i + 5, j], c[i + 5, j + 1], c[i + 5, j + 2], c[i + 5, j + 3] = s50, s51, s52, s53


@njit(cache=True, error_model="numpy", fastmath=True)
def _row_tile(a, bt, c, i, j, depth):
    """Row i of C at columns j to j + 3, for the rows below the last whole tile: 4 sums over p."""
    zero = c.dtype.type(0)
    s0 = s1 = s2 = s3 = zero
    for p in range(depth):
        x = a[i, p]
        s0 += x * bt[j, p]
        s1 += x * bt[j + 1, p]
        s2 += x * bt[j + 2, p]
        s3 += x * bt[j + 3, p]
    c[i, j], c[i, j + 1], c[i, j + 2], c[i, j + 3] = s0, s1, s2, s3


@njit(cache=True, error_model="numpy", fastmath=True)  # not inlined: inlined into the prange it ran far slower
def _edge(a, bt, c, i, j0, j1, depth):
    """Row i of C from column j0 to j1, right of the last whole tile: one dot product per element."""
    for j in range(j0, j1):
        total = c.dtype.type(0)
        for p in range(depth):
            total += a[i, p] * bt[j, p]
        c[i, j] = total


@njit(parallel=True, cache=True, error_model="numpy", fastmath=True)
def _matmul_packed(a, bt, c):
    """C = A Bt^T. Threads share out every tile of a column block (not just its rows of tiles), so a C of
    few rows and a long shared axis, such as a convolution's weight gradient, still keeps both cores busy."""
    m, depth = a.shape
    n = bt.shape[0]
    row_tiles, full_columns = m // _TILE_ROWS, n - n % _TILE_COLUMNS
    for j0 in range(0, full_columns, _COLUMN_BLOCK):
        column_tiles = (min(j0 + _COLUMN_BLOCK, full_columns) - j0) // _TILE_COLUMNS
        for t in prange(row_tiles * column_tiles):
            _tile(a, bt, c, (t // column_tiles) * _TILE_ROWS, j0 + (t % column_tiles) * _TILE_COLUMNS, depth)
    tiled_rows, column_tiles = row_tiles * _TILE_ROWS, full_columns // _TILE_COLUMNS
    for t in prange((m - tiled_rows) * column_tiles):  # the rows below the last tile, 4 columns at a time
        _row_tile(a, bt, c, tiled_rows + t // column_tiles, (t % column_tiles) * _TILE_COLUMNS, depth)
    if full_columns < n:
        for i in prange(m):  # the last n % 4 columns of every row
            _edge(a, bt, c, i, full_columns, n, depth)


@njit(parallel=True, cache=True, error_model="numpy")
def _transpose_into(b, bt):
    """bt = b^T, copied in 32 x 32 blocks so that both the reads and the writes of a block stay in cache
    (NumPy's ascontiguousarray(b.T) walks whole rows of one side, and measured slower: docs/kernels.md)."""
    depth, n = b.shape
    for column_block in prange((n + 31) // 32):
        j0 = column_block * 32
        j1 = min(j0 + 32, n)
        for p0 in range(0, depth, 32):
            p1 = min(p0 + 32, depth)
            for j in range(j0, j1):
                for p in range(p0, p1):
                    bt[j, p] = b[p, j]


def matmul_transposed(a, bt):
    """a @ bt.T for 2-D a (M, K) and bt (N, K): both operands already run along K, so nothing is packed.
    A convolution's weight gradient has this layout (the gradient rows against the im2col rows)."""
    if a.ndim != 2 or bt.ndim != 2 or a.shape[1] != bt.shape[1]:
        raise ValueError(f"matmul kernel: shapes {a.shape} and {bt.shape} (transposed) cannot be multiplied")
    c = np.empty((a.shape[0], bt.shape[0]), dtype=np.result_type(a, bt))
    if c.size:
        if a.shape[1] == 0:
            c[...] = 0
        else:
            _matmul_packed(np.ascontiguousarray(a, dtype=c.dtype), np.ascontiguousarray(bt, dtype=c.dtype), c)
    return c


def matmul(a, b):
    """a @ b for 2-D a (M, K) and b (K, N), or batched (..., M, K) @ (..., K, N) with broadcast batch dims."""
    if a.ndim < 2 or b.ndim < 2 or a.shape[-1] != b.shape[-2]:  # checked here: the kernel itself would read
        raise ValueError(f"matmul kernel: shapes {a.shape} and {b.shape} cannot be multiplied")  # out of bounds
    if a.ndim == 2 and b.ndim == 2:
        b = np.asarray(b, dtype=np.result_type(a, b))
        bt = np.empty((b.shape[1], b.shape[0]), dtype=b.dtype)
        if bt.size:
            _transpose_into(b, bt)
        return matmul_transposed(a, bt)
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    a_batched = np.broadcast_to(a, batch + a.shape[-2:])
    b_batched = np.broadcast_to(b, batch + b.shape[-2:])
    out = np.empty(batch + (a.shape[-2], b.shape[-1]), dtype=np.result_type(a, b))
    for index in np.ndindex(*batch):
        out[index] = matmul(a_batched[index], b_batched[index])
    return out
