"""Layer normalisation of rows as a numba kernel: the twin of tinygrad_maas/reference/normalization.py (same
function, float64 sums; its docstring has the formula). The sums run as 16 partial sums side by side (so
they vectorise; NumPy's own sums are pairwise): the twins agree to float rounding, not bit for bit.
Parallel over rows when there are enough of them to pay for waking the threads."""

import math

import numpy as np
from numba import carray, njit, prange

from .registers import stack_buffer
from .threads import compiled_twice

_LANES = 16  # partial sums side by side: two vector registers of float64


@njit(cache=True, error_model="numpy", inline="always")
def _sum_of(x, offset, square, partial):
    """sum_c (x[c] - offset) (squared when `square`) in float64, as 16 partial sums over c mod 16 (for
    whole blocks of 16) added at the end, then the tail: a single running sum is a chain of dependent
    additions LLVM may not reorder into vector lanes."""
    width = x.shape[0]
    for lane in range(_LANES):
        partial[lane] = 0.0
    whole = width - width % _LANES
    for start in range(0, whole, _LANES):
        for lane in range(_LANES):
            value = x[start + lane] - offset
            partial[lane] += value * value if square else value
    total = 0.0
    for lane in range(_LANES):
        total += partial[lane]
    for c in range(whole, width):
        value = x[c] - offset
        total += value * value if square else value
    return total


@njit(cache=True, error_model="numpy", inline="always")
def _normalize_row(x, weight, bias, eps, out, partial):
    width = x.shape[0]
    mean = _sum_of(x, 0.0, False, partial) / width
    rstd = 1.0 / math.sqrt(_sum_of(x, mean, True, partial) / width + eps)
    for c in range(width):
        out[c] = (x[c] - mean) * rstd * weight[c] + bias[c]


def _all_rows(x, weight, bias, eps, out):
    for r in prange(x.shape[0]):
        _normalize_row(x[r], weight, bias, eps, out[r], carray(stack_buffer(_LANES, weight), _LANES))


_layer_norm, _layer_norm_serial = compiled_twice(_all_rows, "_layer_norm", error_model="numpy")


# Below this many elements a serial pass beats waking the threads (2 cores, OMP_WAIT_POLICY=PASSIVE:
# 17 x 384 took 12 us serial, 42 us threaded; 170 x 384, 120 against 99; 1000 x 384, 707 against 402).
THREADS_FROM = 1 << 16


def layer_norm_rows(x, weight, bias, eps):
    x = np.ascontiguousarray(x)
    out = np.empty_like(x)
    kernel = _layer_norm if x.size >= THREADS_FROM else _layer_norm_serial
    kernel(x, np.asarray(weight, dtype=np.float64), np.asarray(bias, dtype=np.float64), float(eps), out)
    return out
