"""Bias, ReLU and a 2 x 2 max pool after a convolution's product, in one pass: twins of
tinygrad_maas/reference/conv_epilogue.py (same functions and signatures; the math is there).

Forward is parallel over the O * N planes of the product, each read once and its pooled quarter written
by one thread. Backward is parallel over output channels: a channel's gradient planes and its bias sum
belong to one thread, so nothing is shared and the sum's order is fixed (the same on every run).
"""

import numpy as np
from numba import njit, prange

from .pool import _larger
from .threads import launch

# Elements of the product below which the calling thread alone beats waking numba's threads (threads.launch).
THREADS_FROM = 1 << 18


@njit(parallel=True, cache=True, error_model="numpy")
def _bias_relu_max_pool_2x2(conv, bias, pooled, where):
    channels, n = conv.shape[0], conv.shape[1]
    out_h, out_w = pooled.shape[2], pooled.shape[3]
    for plane in prange(channels * n):
        ch, b = plane // n, plane % n
        shift = bias[ch]
        for y in range(out_h):
            top, bottom = conv[ch, b, 2 * y], conv[ch, b, 2 * y + 1]
            into, into_where = pooled[b, ch, y], where[b, ch, y]
            for x in range(out_w):
                best, best_at = top[2 * x] + shift, 0
                best, best_at = _larger(top[2 * x + 1] + shift, 1, best, best_at)
                best, best_at = _larger(bottom[2 * x] + shift, 2, best, best_at)
                best, best_at = _larger(bottom[2 * x + 1] + shift, 3, best, best_at)
                passed = best > 0
                into[x] = best if passed or best != best else 0  # ReLU; NaN stays NaN
                into_where[x] = best_at if passed else -1


@njit(parallel=True, cache=True, error_model="numpy")
def _bias_relu_max_pool_2x2_backward(grad, where, grad_conv, grad_bias):
    channels, n = grad_conv.shape[0], grad_conv.shape[1]
    out_h, out_w = grad.shape[2], grad.shape[3]
    for ch in prange(channels):
        total = 0.0  # float64: a long float32 sum would drift
        for b in range(n):
            plane = grad_conv[ch, b]
            plane[:] = 0  # here, not by np.zeros: the thread that fills a plane clears it
            for y in range(out_h):
                for x in range(out_w):
                    at = where[b, ch, y, x]
                    if at >= 0:
                        value = grad[b, ch, y, x]
                        plane[2 * y + at // 2, 2 * x + at % 2] = value
                        total += value
        grad_bias[ch] = total


def bias_relu_max_pool_2x2(conv, bias):
    channels, n, height, width = conv.shape
    pooled = np.empty((n, channels, height // 2, width // 2), dtype=conv.dtype)
    where = np.empty(pooled.shape, dtype=np.int8)
    launch(_bias_relu_max_pool_2x2, conv.size, THREADS_FROM, np.ascontiguousarray(conv), bias, pooled, where)
    return pooled, where


def bias_relu_max_pool_2x2_backward(grad, where, conv_shape):
    grad_conv = np.empty(conv_shape, dtype=grad.dtype)
    grad_bias = np.empty(conv_shape[0], dtype=grad.dtype)
    launch(
        _bias_relu_max_pool_2x2_backward,
        grad_conv.size,
        THREADS_FROM,
        np.ascontiguousarray(grad),
        where,
        grad_conv,
        grad_bias,
    )
    return grad_conv, grad_bias
