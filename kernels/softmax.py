"""softmax, log_softmax and softmax-cross-entropy over the last axis of a 2-D array as numba kernels:
twins of tinygrad_maas/reference/softmax.py (same functions, same math; see its docstring).

Each kernel reads a row a few times while it is in cache and writes it once, where NumPy makes a full
temporary array per step. Rows are independent: parallel over rows.
"""

import math

import numpy as np
from numba import njit, prange

from .exponential import exp_of_non_positive
from .threads import launch

# Elements below which the calling thread alone beats waking numba's threads (threads.launch). Cross-entropy
# calls libm's exp per element, so its threads pay earlier than softmax's vectorized exponential.
SOFTMAX_THREADS_FROM = 1 << 17
CROSS_ENTROPY_THREADS_FROM = 1 << 14


_ROWS_PER_BLOCK = 64


@njit(parallel=True, cache=True, error_model="numpy")
def _softmax(x, out, log):
    # Rows are short (an attention row has as many elements as tokens), and a loop of 20 iterations over an
    # exponential compiles to one vector step and a branchy scalar tail. So a block of rows is shifted by
    # each row's maximum first, and e^(x - max) then runs as one long loop over the whole block (with
    # exp_of_non_positive: float32 arithmetic that vectorizes, no libm call), before each row's sum.
    rows, width = x.shape
    for block in prange((rows + _ROWS_PER_BLOCK - 1) // _ROWS_PER_BLOCK):
        first, last = block * _ROWS_PER_BLOCK, min((block + 1) * _ROWS_PER_BLOCK, rows)
        maxima = np.empty(last - first, dtype=x.dtype)
        for r in range(first, last):
            m = -np.inf
            for c in range(width):
                m = max(m, x[r, c])
            maxima[r - first] = m
            for c in range(width):
                out[r, c] = x[r, c] - m
        shifted = out[first:last].reshape(-1)  # the block's rows, contiguous
        for i in range(shifted.shape[0]):
            shifted[i] = exp_of_non_positive(shifted[i])
        for r in range(first, last):
            total = 0.0
            for c in range(width):
                total += out[r, c]
            if log:
                log_total = math.log(total)
                for c in range(width):
                    out[r, c] = x[r, c] - maxima[r - first] - log_total
            else:
                for c in range(width):
                    out[r, c] = out[r, c] / total


@njit(parallel=True, cache=True, error_model="numpy")
def _softmax_backward(y, grad, out, log):
    for r in prange(y.shape[0]):
        total = 0.0
        for c in range(y.shape[1]):
            total += grad[r, c] if log else grad[r, c] * y[r, c]
        for c in range(y.shape[1]):
            if log:  # y = log p <= 0
                out[r, c] = grad[r, c] - exp_of_non_positive(y[r, c]) * total
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


def _rows(x, log):
    x = np.ascontiguousarray(x)  # and so out: the kernel walks a block of out's rows as one flat run
    out = np.empty_like(x)
    launch(_softmax, out.size, SOFTMAX_THREADS_FROM, x, out, log)
    return out


def _rows_backward(y, grad, log):
    y, grad = np.ascontiguousarray(y), np.ascontiguousarray(grad)
    out = np.empty_like(y)
    launch(_softmax_backward, out.size, SOFTMAX_THREADS_FROM, y, grad, out, log)
    return out


def softmax(x):
    return _rows(x, False)


def softmax_backward(y, grad):
    return _rows_backward(y, grad, False)


def log_softmax(x):
    return _rows(x, True)


def log_softmax_backward(y, grad):
    return _rows_backward(y, grad, True)


def cross_entropy(logits, targets, class_weights, ignore_index, smoothing):
    n = logits.shape[0]
    losses, target_weight, lse = (np.empty(n, dtype=logits.dtype) for _ in range(3))
    launch(
        _cross_entropy,
        logits.size,
        CROSS_ENTROPY_THREADS_FROM,
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
        CROSS_ENTROPY_THREADS_FROM,
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
