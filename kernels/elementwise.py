"""Elementwise functions NumPy lacks, as numba kernels: twins of tinygrad_maas/reference/elementwise.py
(float64 erf by math.erf per element; float32 by the rational function whose derivation is there)."""

import math

import numpy as np
from numba import njit, prange

from tinygrad_maas.reference.elementwise import ERF32_P, ERF32_Q, ERF32_SATURATES

from .threads import compiled_twice, launch

# Elements below which the calling thread alone beats waking numba's threads (threads.launch).
ERF_THREADS_FROM = 1 << 18
KEEP_THREADS_FROM = 1 << 20
RELU_THREADS_FROM = 1 << 20


@njit(parallel=True, cache=True, error_model="numpy")
def _erf(flat, out):
    for i in prange(flat.shape[0]):
        out[i] = math.erf(flat[i])


@njit(cache=True, error_model="numpy", inline="always")
def _erf32_of(x, p, q, saturates):
    z = x * x
    numerator = p[6]
    for k in range(5, -1, -1):
        numerator = numerator * z + p[k]
    denominator = q[4]
    for k in range(3, -1, -1):
        denominator = denominator * z + q[k]
    if abs(x) > saturates:
        return np.float32(1.0) if x > 0 else np.float32(-1.0)
    return x * numerator / denominator  # nan stays nan


@njit(parallel=True, cache=True, error_model="numpy")
def _erf32(flat, out, p, q, saturates):
    for i in prange(flat.shape[0]):
        out[i] = _erf32_of(flat[i], p, q, saturates)


def erf(x):
    if x.dtype == np.float64:
        out = np.empty(x.size, dtype=x.dtype)
        launch(_erf, x.size, ERF_THREADS_FROM, np.ascontiguousarray(x).reshape(-1), out)
        return out.reshape(x.shape)
    flat = np.ascontiguousarray(x, dtype=np.float32).reshape(-1)
    out = np.empty(flat.size, dtype=np.float32)
    launch(_erf32, flat.size, ERF_THREADS_FROM, flat, out, ERF32_P, ERF32_Q, ERF32_SATURATES)
    return out.reshape(x.shape).astype(x.dtype, copy=False)


@njit(parallel=True, cache=True, error_model="numpy")
def _gelu32(flat, out, p, q, saturates):
    half, root_half, one = np.float32(0.5), np.float32(1 / math.sqrt(2)), np.float32(1.0)
    for i in prange(flat.shape[0]):
        x = flat[i]
        out[i] = (x * half) * (_erf32_of(x * root_half, p, q, saturates) + one)


@njit(parallel=True, cache=True, error_model="numpy")
def _gelu64(flat, out):
    root_half = 1 / math.sqrt(2)
    for i in prange(flat.shape[0]):
        x = flat[i]
        out[i] = (x * 0.5) * (math.erf(x * root_half) + 1.0)


def gelu(x):
    """x Phi(x) for float32 or float64 x in one pass: the twin's operations in the twin's order."""
    flat = np.ascontiguousarray(x).reshape(-1)
    out = np.empty(flat.size, dtype=x.dtype)
    if x.dtype == np.float64:
        launch(_gelu64, flat.size, ERF_THREADS_FROM, flat, out)
    else:
        launch(_gelu32, flat.size, ERF_THREADS_FROM, flat, out, ERF32_P, ERF32_Q, ERF32_SATURATES)
    return out.reshape(x.shape)


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


def _relu_driver(flat, out):
    for i in prange(flat.shape[0]):
        x = flat[i]
        out[i] = x if x > 0 or x != x else 0  # nan stays nan; -0 becomes +0, as np.maximum(x, 0)


def _keep_positive_driver(values, grad, zero, out):
    nothing = zero[0]  # 0 in grad's dtype
    for i in prange(grad.shape[0]):
        out[i] = grad[i] if values[i] > 0 else nothing


def _bias_relu_driver(rows, bias):
    width = bias.shape[0]
    for r in prange(rows.shape[0]):
        row = rows[r]
        for c in range(width):
            x = row[c] + bias[c]
            row[c] = x if x > 0 or x != x else 0  # as _relu_driver


# Every hidden layer calls these, most on small batches: the serial builds skip the parallel region's start.
_relu, _relu_serial = compiled_twice(_relu_driver, "_relu")
_bias_relu, _bias_relu_serial = compiled_twice(_bias_relu_driver, "_bias_relu")
_keep_positive, _keep_positive_serial = compiled_twice(_keep_positive_driver, "_keep_positive")


def relu(x):
    """max(x, 0) for a float32 or float64 array, as np.maximum(x, 0) does it (nan kept, -0 -> +0): one
    vectorised pass, where NumPy's maximum against a scalar runs about 3.5x slower than against an array of
    the same shape (docs/kernels.md, "ReLU")."""
    flat = np.ascontiguousarray(x).reshape(-1)
    out = np.empty(flat.shape, dtype=flat.dtype)
    (_relu if out.size >= RELU_THREADS_FROM else _relu_serial)(flat, out)
    return out.reshape(x.shape)


def bias_relu_(rows, bias):
    """rows = max(rows + bias, 0) in place, for a C-contiguous (m, n) float32 or float64 array and an (n,)
    bias of its dtype: a linear layer's output and its ReLU in one pass instead of two (ops/linear.py,
    LinearRelu). The sum, then np.maximum(x, 0) (nan kept, -0 -> +0): bit for bit the two ops."""
    (_bias_relu if rows.size >= RELU_THREADS_FROM else _bias_relu_serial)(rows, bias)
    return rows


def keep_positive(values, grad):
    """keep(values > 0, grad) in one pass, without the mask array: relu's backward from its output."""
    out = np.empty(grad.shape, dtype=grad.dtype)
    flat_values, flat_grad = np.ascontiguousarray(values).reshape(-1), np.ascontiguousarray(grad).reshape(-1)
    kernel = _keep_positive if out.size >= KEEP_THREADS_FROM else _keep_positive_serial
    kernel(flat_values, flat_grad, np.zeros(1, dtype=grad.dtype), out.reshape(-1))
    return out
