"""Pooling as numba kernels: twins of tinygrad_maas/reference/pool.py (same functions and signatures).

Parallel over the N * C planes; within a plane one thread does everything, so the backward's scatter
(windows overlap when stride < kernel) never races.
"""

import numpy as np
from numba import njit, prange


@njit(parallel=True, cache=True, error_model="numpy")
def _window_max(padded, out, out_index, kernel_h, kernel_w, stride_h, stride_w, dilation_h, dilation_w):
    n, c, _, width = padded.shape
    out_h, out_w = out.shape[2], out.shape[3]
    for plane in prange(n * c):
        b, ch = plane // c, plane % c
        for y in range(out_h):
            for x in range(out_w):
                best = -np.inf
                best_index = 0
                for i in range(kernel_h):
                    row = y * stride_h + i * dilation_h
                    for j in range(kernel_w):
                        column = x * stride_w + j * dilation_w
                        value = padded[b, ch, row, column]
                        if value > best or np.isnan(value):  # as PyTorch: NaN propagates
                            best = value
                            best_index = row * width + column
                out[b, ch, y, x] = best
                out_index[b, ch, y, x] = best_index


@njit(parallel=True, cache=True, error_model="numpy")
def _window_max_backward(grad, indices, grad_padded):
    n, c = grad.shape[0], grad.shape[1]
    width = grad_padded.shape[3]
    for plane in prange(n * c):
        b, ch = plane // c, plane % c
        for y in range(grad.shape[2]):
            for x in range(grad.shape[3]):
                index = indices[b, ch, y, x]
                grad_padded[b, ch, index // width, index % width] += grad[b, ch, y, x]


@njit(parallel=True, cache=True, error_model="numpy")
def _window_average(x, out, starts_h, ends_h, starts_w, ends_w, divisor):
    n, c = x.shape[0], x.shape[1]
    for plane in prange(n * c):
        b, ch = plane // c, plane % c
        for y in range(out.shape[2]):
            for z in range(out.shape[3]):
                total = 0.0
                for row in range(starts_h[y], ends_h[y]):
                    for column in range(starts_w[z], ends_w[z]):
                        total += x[b, ch, row, column]
                out[b, ch, y, z] = total / divisor[y, z]


@njit(parallel=True, cache=True, error_model="numpy")
def _window_average_backward(grad, grad_x, starts_h, ends_h, starts_w, ends_w, divisor):
    n, c = grad.shape[0], grad.shape[1]
    for plane in prange(n * c):
        b, ch = plane // c, plane % c
        for y in range(grad.shape[2]):
            for z in range(grad.shape[3]):
                share = grad[b, ch, y, z] / divisor[y, z]
                for row in range(starts_h[y], ends_h[y]):
                    for column in range(starts_w[z], ends_w[z]):
                        grad_x[b, ch, row, column] += share


def window_max(padded, kernel_h, kernel_w, stride_h, stride_w, dilation_h, dilation_w, out_h, out_w):
    out = np.empty(padded.shape[:2] + (out_h, out_w), dtype=padded.dtype)
    out_index = np.empty(padded.shape[:2] + (out_h, out_w), dtype=np.int64)
    _window_max(
        np.ascontiguousarray(padded), out, out_index, kernel_h, kernel_w, stride_h, stride_w, dilation_h, dilation_w
    )
    return out, out_index


def window_max_backward(grad, indices, padded_shape):
    grad_padded = np.zeros(padded_shape, dtype=grad.dtype)
    _window_max_backward(np.ascontiguousarray(grad), indices, grad_padded)
    return grad_padded


def window_average(x, starts_h, ends_h, starts_w, ends_w, divisor):
    out = np.empty(x.shape[:2] + divisor.shape, dtype=x.dtype)
    _window_average(np.ascontiguousarray(x), out, starts_h, ends_h, starts_w, ends_w, divisor)
    return out


def window_average_backward(grad, input_shape, starts_h, ends_h, starts_w, ends_w, divisor):
    grad_x = np.zeros(input_shape, dtype=grad.dtype)
    _window_average_backward(np.ascontiguousarray(grad), grad_x, starts_h, ends_h, starts_w, ends_w, divisor)
    return grad_x
