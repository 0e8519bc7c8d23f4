"""Layer normalisation of rows as a numba kernel: the twin of tinygrad_maas/reference/normalization.py (same
function, same arithmetic: float64 sums; its docstring has the formula). Parallel over rows when there are
enough of them to pay for waking the threads."""

import math

import numpy as np
from numba import njit, prange  # noqa: F401 - prange: the body's loop, threaded or not


def _layer_norm_body(x, weight, bias, eps, out):
    rows, width = x.shape
    for r in prange(rows):
        total = 0.0
        for c in range(width):
            total += x[r, c]
        mean = total / width
        spread = 0.0
        for c in range(width):
            deviation = x[r, c] - mean
            spread += deviation * deviation
        rstd = 1.0 / math.sqrt(spread / width + eps)
        for c in range(width):
            out[r, c] = (x[r, c] - mean) * rstd * weight[c] + bias[c]


_layer_norm = njit(parallel=True, cache=True, error_model="numpy")(_layer_norm_body)
_layer_norm_serial = njit(cache=True, error_model="numpy")(_layer_norm_body)
THREADS_FROM = 1 << 16  # elements; below, a serial pass beats waking the threads (measured like quantized.py)


def layer_norm_rows(x, weight, bias, eps):
    x = np.ascontiguousarray(x)
    out = np.empty_like(x)
    kernel = _layer_norm if x.size >= THREADS_FROM else _layer_norm_serial
    kernel(x, np.asarray(weight, dtype=np.float64), np.asarray(bias, dtype=np.float64), float(eps), out)
    return out
