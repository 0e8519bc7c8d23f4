"""Elementwise functions NumPy lacks, as numba kernels: twins of tinygrad_maas/reference/elementwise.py
(float64 erf by math.erf per element; float32 by the rational function whose derivation is there)."""

import math

import numpy as np
from numba import njit, prange

from tinygrad_maas.reference.elementwise import ERF32_P, ERF32_Q, ERF32_SATURATES

from .threads import launch

# Elements below which the calling thread alone beats waking numba's threads (threads.launch).
ERF_THREADS_FROM = 1 << 18
KEEP_THREADS_FROM = 1 << 20


@njit(parallel=True, cache=True, error_model="numpy")
def _erf(flat, out):
    for i in prange(flat.shape[0]):
        out[i] = math.erf(flat[i])


@njit(parallel=True, cache=True, error_model="numpy")
def _erf32(flat, out, p, q, saturates):
    for i in prange(flat.shape[0]):
        x = flat[i]
        z = x * x
        numerator = p[6]
        for k in range(5, -1, -1):
            numerator = numerator * z + p[k]
        denominator = q[4]
        for k in range(3, -1, -1):
            denominator = denominator * z + q[k]
        if abs(x) > saturates:
            out[i] = np.float32(1.0) if x > 0 else np.float32(-1.0)
        else:
            out[i] = x * numerator / denominator  # nan stays nan


def erf(x):
    if x.dtype == np.float64:
        out = np.empty(x.size, dtype=x.dtype)
        launch(_erf, x.size, ERF_THREADS_FROM, np.ascontiguousarray(x).reshape(-1), out)
        return out.reshape(x.shape)
    flat = np.ascontiguousarray(x, dtype=np.float32).reshape(-1)
    out = np.empty(flat.size, dtype=np.float32)
    launch(_erf32, flat.size, ERF_THREADS_FROM, flat, out, ERF32_P, ERF32_Q, ERF32_SATURATES)
    return out.reshape(x.shape).astype(x.dtype, copy=False)


@njit(parallel=True, cache=True)
def _keep(mask, grad, zero, out):
    nothing = zero[0]  # 0 in grad's dtype
    for i in prange(grad.shape[0]):
        out[i] = grad[i] if mask[i] else nothing


def keep(mask, grad):
    """np.where(mask, grad, 0) for float32 or float64 grad and a bool mask of its shape, as one branch-free
    pass (a select per element, vectorised). NumPy's where
    branches per element, which a mask like relu's (about half true, at random) makes slow: measured 17x
    slower than this on 1.4 M elements (docs/kernels.md)."""
    out = np.empty(grad.shape, dtype=grad.dtype)
    flat_mask, flat_grad = np.ascontiguousarray(mask).reshape(-1), np.ascontiguousarray(grad).reshape(-1)
    launch(_keep, out.size, KEEP_THREADS_FROM, flat_mask, flat_grad, np.zeros(1, dtype=grad.dtype), out.reshape(-1))
    return out
