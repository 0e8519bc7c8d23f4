"""Elementwise functions NumPy lacks, as numba kernels: twins of tinygrad_maas/reference/elementwise.py."""

import math

import numpy as np
from numba import njit, prange


@njit(parallel=True, cache=True, error_model="numpy")
def _erf(flat, out):
    for i in prange(flat.shape[0]):
        out[i] = math.erf(flat[i])


def erf(x):
    out = np.empty(x.size, dtype=x.dtype)
    _erf(np.ascontiguousarray(x).reshape(-1), out)
    return out.reshape(x.shape)
