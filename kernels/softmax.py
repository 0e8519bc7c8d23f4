"""softmax, log_softmax and softmax-cross-entropy over the last axis of a 2-D array as numba kernels:
twins of tinygrad_maas/reference/softmax.py (same functions, same math; see its docstring).

Each kernel reads a row a few times while it is in cache and writes it once, where NumPy makes a full
temporary array per step. Rows are independent: parallel over rows.
"""

import math

import numpy as np
from numba import njit, prange

from .threads import launch

# Elements below which the calling thread alone beats waking numba's threads (threads.launch): exp per
# element makes these rows heavy, so threads pay early.
THREADS_FROM = 1 << 14


@njit(parallel=True, cache=True, error_model="numpy")
def _softmax(x, out, log):
    for r in prange(x.shape[0]):
        m = -np.inf
        for c in range(x.shape[1]):
            m = max(m, x[r, c])
        total = 0.0
        for c in range(x.shape[1]):
            total += math.exp(x[r, c] - m)
        log_total = math.log(total)
        for c in range(x.shape[1]):
            if log:
                out[r, c] = x[r, c] - m - log_total
            else:
                out[r, c] = math.exp(x[r, c] - m) / total


@njit(parallel=True, cache=True, error_model="numpy")
def _softmax_backward(y, grad, out, log):
    for r in prange(y.shape[0]):
        total = 0.0
        for c in range(y.shape[1]):
            total += grad[r, c] if log else grad[r, c] * y[r, c]
        for c in range(y.shape[1]):
            if log:
                out[r, c] = grad[r, c] - math.exp(y[r, c]) * total
            else:
                out[r, c] = y[r, c] * (grad[r, c] - total)


@njit(cache=True, error_model="numpy")
def _row_shares(r, targets, class_weights, ignore_index, smoothing, shares):
    """Fill shares[c] (the a_c of the reference docstring) for row r; return w_t (0 if ignored)."""
    n_classes = shares.shape[0]
    target = targets[r]
    if target == ignore_index:
        shares[:] = 0.0
        return 0.0
    for c in range(n_classes):
        shares[c] = smoothing / n_classes * class_weights[c]
    shares[target] += (1.0 - smoothing) * class_weights[target]
    return class_weights[target]


@njit(parallel=True, cache=True, error_model="numpy")
def _cross_entropy(logits, targets, class_weights, ignore_index, smoothing, losses, target_weight, lse):
    n_classes = logits.shape[1]
    for r in prange(logits.shape[0]):
        shares = np.empty(n_classes)
        target_weight[r] = _row_shares(r, targets, class_weights, ignore_index, smoothing, shares)
        m = -np.inf
        for c in range(n_classes):
            m = max(m, logits[r, c])
        total = 0.0
        for c in range(n_classes):
            total += math.exp(logits[r, c] - m)
        lse[r] = math.log(total) + m
        loss = 0.0
        for c in range(n_classes):
            loss += shares[c] * (lse[r] - logits[r, c])
        losses[r] = loss


@njit(parallel=True, cache=True, error_model="numpy")
def _cross_entropy_backward(logits, targets, class_weights, ignore_index, smoothing, lse, row_grads, out):
    n_classes = logits.shape[1]
    for r in prange(logits.shape[0]):
        shares = np.empty(n_classes)
        _row_shares(r, targets, class_weights, ignore_index, smoothing, shares)
        share_total = 0.0
        for c in range(n_classes):
            share_total += shares[c]
        for c in range(n_classes):
            out[r, c] = (math.exp(logits[r, c] - lse[r]) * share_total - shares[c]) * row_grads[r]


def softmax(x):
    out = np.empty_like(x)
    launch(_softmax, out.size, THREADS_FROM, np.ascontiguousarray(x), out, False)
    return out


def softmax_backward(y, grad):
    out = np.empty_like(y)
    launch(_softmax_backward, out.size, THREADS_FROM, np.ascontiguousarray(y), np.ascontiguousarray(grad), out, False)
    return out


def log_softmax(x):
    out = np.empty_like(x)
    launch(_softmax, out.size, THREADS_FROM, np.ascontiguousarray(x), out, True)
    return out


def log_softmax_backward(y, grad):
    out = np.empty_like(y)
    launch(_softmax_backward, out.size, THREADS_FROM, np.ascontiguousarray(y), np.ascontiguousarray(grad), out, True)
    return out


def cross_entropy(logits, targets, class_weights, ignore_index, smoothing):
    n = logits.shape[0]
    losses, target_weight, lse = (np.empty(n, dtype=logits.dtype) for _ in range(3))
    launch(
        _cross_entropy,
        logits.size,
        THREADS_FROM,
        np.ascontiguousarray(logits),
        targets,
        class_weights.astype(np.float64),
        ignore_index,
        float(smoothing),
        losses,
        target_weight,
        lse,
    )
    return losses, target_weight, lse


def cross_entropy_backward(logits, targets, class_weights, ignore_index, smoothing, lse, row_grads):
    out = np.empty_like(logits)
    launch(
        _cross_entropy_backward,
        logits.size,
        THREADS_FROM,
        np.ascontiguousarray(logits),
        targets,
        class_weights.astype(np.float64),
        ignore_index,
        float(smoothing),
        lse,
        np.ascontiguousarray(row_grads),
        out,
    )
    return out
