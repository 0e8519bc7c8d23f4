"""int8 kernels for quantized layers: twins of tinygrad_maas/reference/quantized.py (same functions, same
results bit for bit; its docstring has the arithmetic).

int8_matmul_t takes each output as a dot product of two contiguous int8 rows. The rows are widened to
int16 first (each product of two int8 values fits int16), which lets LLVM use the CPU's multiply-add of
int16 pairs into int32 (pmaddwd) over whole vector registers. Parallel over the rows of the output when
the product is large enough to pay for waking the threads.
"""

import numpy as np
from numba import njit, prange

from tinygrad_maas.reference.quantized import LEVELS, MAX_DEPTH


@njit(cache=True)  # serial: measured as fast as threads even at 416 x 1536, and far faster on small inputs
def _quantize_rows(x, q, scale):
    for r in prange(x.shape[0]):
        amax = np.float32(0.0)
        finite = True
        for c in range(x.shape[1]):
            v = abs(x[r, c])
            if not np.isfinite(v):
                finite = False
            elif v > amax:
                amax = v
        s = amax / np.float32(LEVELS) if amax > 0 else np.float32(1.0)
        scale[r] = s if finite else np.nan
        for c in range(x.shape[1]):
            v = np.rint(x[r, c] / s) if finite else np.float32(0.0)
            q[r, c] = np.int8(min(max(v, -LEVELS), LEVELS))


def quantize_rows(x):
    x = np.ascontiguousarray(x, dtype=np.float32)
    q = np.empty(x.shape, dtype=np.int8)
    scale = np.empty(x.shape[0], dtype=np.float32)
    _quantize_rows(x, q, scale)
    return q, scale


@njit(cache=True, inline="always")
def _dot_rows(row, b, out_row, k):
    """out_row[j] = row . b[j] for every row j of b, in int32 (row already widened to int16)."""
    for j in range(b.shape[0]):
        weights = b[j]
        total = np.int32(0)
        for p in range(k):
            total += np.int32(np.int16(row[p]) * np.int16(weights[p]))
        out_row[j] = total


# Two functions, not one body compiled twice: numba's cache is keyed by the function, so a threaded and a
# serial compilation of the same function would overwrite each other's cached code.
@njit(parallel=True, cache=True)
def _int8_matmul_t(a, b, out):
    k = a.shape[1]  # the size in a local: read from the array inside the loop, it stops LLVM vectorising
    for i in prange(a.shape[0]):
        _dot_rows(a[i].astype(np.int16), b, out[i], k)


@njit(cache=True)
def _int8_matmul_t_serial(a, b, out):
    k = a.shape[1]
    for i in range(a.shape[0]):
        _dot_rows(a[i].astype(np.int16), b, out[i], k)


# Below this many multiply-adds, waking the worker threads (OMP_WAIT_POLICY=PASSIVE, backend.py) costs more
# than they save (2 cores: 13 x 384 x 384 took 50 us serial, 61 us threaded; 40 x 384 x 384, 153 against 120).
THREADS_FROM = 4_000_000


def int8_matmul_t(a, b):
    if a.shape[1] > MAX_DEPTH:
        raise ValueError(f"int8_matmul_t: {a.shape[1]} terms per dot product could overflow int32 (max {MAX_DEPTH})")
    out = np.empty((a.shape[0], b.shape[0]), dtype=np.int32)
    kernel = _int8_matmul_t if a.shape[0] * a.shape[1] * b.shape[0] >= THREADS_FROM else _int8_matmul_t_serial
    kernel(np.ascontiguousarray(a), np.ascontiguousarray(b), out)
    return out
