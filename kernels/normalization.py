"""Layer normalisation of rows as a numba kernel: the twin of tinygrad_maas/reference/normalization.py (same
function, same arithmetic: float64 sums; its docstring has the formula). Parallel over rows when there are
enough of them to pay for waking the threads."""

import math

import numpy as np
from numba import njit, prange


@njit(cache=True, error_model="numpy", inline="always")
def _normalize_row(x, weight, bias, eps, out):
    width = x.shape[0]
    total = 0.0
    for c in range(width):
        total += x[c]
    mean = total / width
    spread = 0.0
    for c in range(width):
        deviation = x[c] - mean
        spread += deviation * deviation
    rstd = 1.0 / math.sqrt(spread / width + eps)
    for c in range(width):
        out[c] = (x[c] - mean) * rstd * weight[c] + bias[c]


# Two functions, not one body compiled twice: numba's cache is keyed by the function, so a threaded and a
# serial compilation of the same function would overwrite each other's cached code.
@njit(parallel=True, cache=True, error_model="numpy")
def _layer_norm(x, weight, bias, eps, out):
    for r in prange(x.shape[0]):
        _normalize_row(x[r], weight, bias, eps, out[r])


@njit(cache=True, error_model="numpy")
def _layer_norm_serial(x, weight, bias, eps, out):
    for r in range(x.shape[0]):
        _normalize_row(x[r], weight, bias, eps, out[r])


# Below this many elements a serial pass beats waking the threads (2 cores, OMP_WAIT_POLICY=PASSIVE:
# 17 x 384 took 12 us serial, 42 us threaded; 170 x 384, 120 against 99; 1000 x 384, 707 against 402).
THREADS_FROM = 1 << 16


def layer_norm_rows(x, weight, bias, eps):
    x = np.ascontiguousarray(x)
    out = np.empty_like(x)
    kernel = _layer_norm if x.size >= THREADS_FROM else _layer_norm_serial
    kernel(x, np.asarray(weight, dtype=np.float64), np.asarray(bias, dtype=np.float64), float(eps), out)
    return out
