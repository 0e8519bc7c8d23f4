"""softmax, log_softmax and softmax-cross-entropy over the last axis of a 2-D array as numba kernels:
twins of tinygrad_maas/reference/softmax.py (same functions, same math; see its docstring).

Each kernel reads a row a few times while it is in cache and writes it once, where NumPy makes a full
temporary array per step. Rows are independent: parallel over rows.
"""

import math

import numpy as np
from numba import njit, prange

from .exponential import exp_of_non_positive
from .threads import compiled_twice, launch

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


@njit(inline="always")
def _share(c, target, class_weights, smoothing, n_classes):
    """a_c of the reference docstring for one row whose target is not ignored: the uniform part of label
    smoothing, plus the target's own part on its class. Computed where it is used: an array of shares per
    row would be an allocation per row (most of a small batch's time)."""
    share = smoothing / n_classes * class_weights[c]
    if c == target:
        share += (1.0 - smoothing) * class_weights[target]
    return share


def _cross_entropy_driver(logits, targets, class_weights, ignore_index, smoothing, losses, target_weight, lse):
    # As _softmax: e^(x - max) of a block of rows runs as one vectorised loop over a scratch of the block
    # (per row it would be a latency-bound polynomial per class: 2.6x slower on 128 rows of 10 classes).
    rows, n_classes = logits.shape
    for block in prange((rows + _ROWS_PER_BLOCK - 1) // _ROWS_PER_BLOCK):
        first, last = block * _ROWS_PER_BLOCK, min((block + 1) * _ROWS_PER_BLOCK, rows)
        shifted = np.empty((last - first) * n_classes, dtype=logits.dtype)
        for r in range(first, last):
            m = -np.inf
            for c in range(n_classes):
                m = max(m, logits[r, c])
            lse[r] = m  # the maximum in the logits' precision: the shifted logits stay in it too
            for c in range(n_classes):
                shifted[(r - first) * n_classes + c] = logits[r, c] - lse[r]
        for i in range(shifted.shape[0]):
            shifted[i] = exp_of_non_positive(shifted[i])
        for r in range(first, last):
            total = 0.0
            for c in range(n_classes):
                total += shifted[(r - first) * n_classes + c]
            lse[r] = math.log(total) + lse[r]
            target = targets[r]
            if target == ignore_index:
                target_weight[r] = 0.0
                losses[r] = 0.0
                continue
            target_weight[r] = class_weights[target]
            if smoothing == 0.0:  # a_c is w_t on the target, 0 elsewhere
                losses[r] = class_weights[target] * (lse[r] - logits[r, target])
                continue
            loss = 0.0
            for c in range(n_classes):
                loss += _share(c, target, class_weights, smoothing, n_classes) * (lse[r] - logits[r, c])
            losses[r] = loss


def _cross_entropy_backward_driver(logits, targets, class_weights, ignore_index, smoothing, lse, row_grads, out):
    # out's rows are contiguous (the caller makes it): a block of them holds x - lse, then e^(x - lse) in one
    # vectorised loop, then each row's shares.
    rows, n_classes = logits.shape
    for block in prange((rows + _ROWS_PER_BLOCK - 1) // _ROWS_PER_BLOCK):
        first, last = block * _ROWS_PER_BLOCK, min((block + 1) * _ROWS_PER_BLOCK, rows)
        for r in range(first, last):
            for c in range(n_classes):
                out[r, c] = logits[r, c] - lse[r]
        probabilities = out[first:last].reshape(-1)
        for i in range(probabilities.shape[0]):
            probabilities[i] = exp_of_non_positive(probabilities[i])
        for r in range(first, last):
            target = targets[r]
            if target == ignore_index:
                out[r] = 0.0
                continue
            if smoothing == 0.0:  # a_c is w_t on the target, 0 elsewhere: (p_c w_t - [c = t] w_t) g
                weight, grad = class_weights[target], row_grads[r]
                at_target = out[r, target]
                for c in range(n_classes):
                    out[r, c] = out[r, c] * weight * grad
                out[r, target] = (at_target * weight - weight) * grad  # -inf, not nan, under an infinite g
                continue
            share_total = 0.0
            for c in range(n_classes):
                share_total += _share(c, target, class_weights, smoothing, n_classes)
            for c in range(n_classes):
                share = _share(c, target, class_weights, smoothing, n_classes)
                out[r, c] = (out[r, c] * share_total - share) * row_grads[r]


# A batch's logits are small (128 x 10 for MNIST): the serial builds skip the parallel region's start too.
_cross_entropy, _cross_entropy_serial = compiled_twice(_cross_entropy_driver, "_cross_entropy", error_model="numpy")
_cross_entropy_backward, _cross_entropy_backward_serial = compiled_twice(
    _cross_entropy_backward_driver, "_cross_entropy_backward", error_model="numpy"
)


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
    kernel = _cross_entropy if logits.size >= CROSS_ENTROPY_THREADS_FROM else _cross_entropy_serial
    kernel(
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
    threaded = logits.size >= CROSS_ENTROPY_THREADS_FROM
    (_cross_entropy_backward if threaded else _cross_entropy_backward_serial)(
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
