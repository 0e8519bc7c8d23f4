"""Pooling as numba kernels: twins of tinygrad_maas/reference/pool.py (same functions and signatures).

Parallel over the N * C planes (when there is enough work: threads.launch); within a plane one thread does
everything, so the backward's scatter (windows overlap when stride < kernel) never races.
"""

import numpy as np
from numba import njit, prange

from tinygrad_maas.reference.pool import window_position_dtype

from .threads import launch

# Elements of the input below which the calling thread alone beats waking numba's threads (threads.launch).
THREADS_FROM = 1 << 18


@njit(inline="always")
def _beats(value, best):
    """A later window element replaces the maximum only if strictly larger, or NaN (NaN propagates, as in
    PyTorch): so the first maximum wins ties."""
    return (value > best) | (value != value)


@njit(inline="always")
def _larger(value, at, best, best_at):
    """(value, at) if value beats best, else (best, best_at): two selects, no branch."""
    beats = _beats(value, best)
    return (value if beats else best), (at if beats else best_at)


@njit(parallel=True, cache=True, error_model="numpy")
def _window_max(padded, out, where, kernel_h, kernel_w, stride_h, stride_w, dilation_h, dilation_w):
    n, c = padded.shape[0], padded.shape[1]
    out_h, out_w = out.shape[2], out.shape[3]
    for plane in prange(n * c):
        b, ch = plane // c, plane % c
        for y in range(out_h):
            for x in range(out_w):
                best = padded[b, ch, y * stride_h, x * stride_w]
                best_at = 0
                for i in range(kernel_h):
                    row = y * stride_h + i * dilation_h
                    for j in range(kernel_w):
                        value = padded[b, ch, row, x * stride_w + j * dilation_w]
                        if _beats(value, best):
                            best, best_at = value, i * kernel_w + j
                out[b, ch, y, x] = best
                where[b, ch, y, x] = best_at


@njit(parallel=True, cache=True, error_model="numpy")
def _window_max_2x2(padded, out, where):
    """_window_max for 2 x 2 windows at stride 2 (MaxPool2d(2), most networks' pooling): with the window
    fixed at compile time the loop over x compiles to vector instructions, which the general loop does not."""
    n, c = padded.shape[0], padded.shape[1]
    out_h, out_w = out.shape[2], out.shape[3]
    for plane in prange(n * c):
        b, ch = plane // c, plane % c
        for y in range(out_h):
            top, bottom = padded[b, ch, 2 * y], padded[b, ch, 2 * y + 1]
            for x in range(out_w):
                best, best_at = top[2 * x], 0
                best, best_at = _larger(top[2 * x + 1], 1, best, best_at)
                best, best_at = _larger(bottom[2 * x], 2, best, best_at)
                best, best_at = _larger(bottom[2 * x + 1], 3, best, best_at)
                out[b, ch, y, x] = best
                where[b, ch, y, x] = best_at


@njit(parallel=True, cache=True, error_model="numpy")
def _window_max_backward(grad, where, grad_padded, row_offset, column_offset, stride_h, stride_w):
    n, c, height, width = grad_padded.shape
    out_h, out_w = grad.shape[2], grad.shape[3]
    planes = grad_padded.reshape(n * c, height * width)
    for plane in prange(n * c):
        target = planes[plane]
        target[:] = 0  # here, not by np.zeros: each thread clears the plane it is about to fill
        b, ch = plane // c, plane % c
        for y in range(out_h):
            for x in range(out_w):
                at = where[b, ch, y, x]
                row, column = y * stride_h + row_offset[at], x * stride_w + column_offset[at]
                target[row * width + column] += grad[b, ch, y, x]


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
    where = np.empty(out.shape, dtype=window_position_dtype(kernel_h, kernel_w))
    padded = np.ascontiguousarray(padded)
    if (kernel_h, kernel_w, stride_h, stride_w, dilation_h, dilation_w) == (2, 2, 2, 2, 1, 1):
        launch(_window_max_2x2, padded.size, THREADS_FROM, padded, out, where)
    else:
        window = (kernel_h, kernel_w, stride_h, stride_w, dilation_h, dilation_w)
        launch(_window_max, padded.size, THREADS_FROM, padded, out, where, *window)
    return out, where


def window_max_backward(grad, where, padded_shape, kernel_h, kernel_w, stride_h, stride_w, dilation_h, dilation_w):
    grad_padded = np.empty(padded_shape, dtype=grad.dtype)
    positions = np.arange(kernel_h * kernel_w)  # window position -> row and column offset (no division)
    row_offset, column_offset = (positions // kernel_w) * dilation_h, (positions % kernel_w) * dilation_w
    offsets = (row_offset, column_offset, stride_h, stride_w)
    launch(
        _window_max_backward, grad_padded.size, THREADS_FROM, np.ascontiguousarray(grad), where, grad_padded, *offsets
    )
    return grad_padded


def window_average(x, starts_h, ends_h, starts_w, ends_w, divisor):
    out = np.empty(x.shape[:2] + divisor.shape, dtype=x.dtype)
    launch(
        _window_average, x.size, THREADS_FROM, np.ascontiguousarray(x), out, starts_h, ends_h, starts_w, ends_w, divisor
    )
    return out


def window_average_backward(grad, input_shape, starts_h, ends_h, starts_w, ends_w, divisor):
    grad_x = np.zeros(input_shape, dtype=grad.dtype)
    bounds = (starts_h, ends_h, starts_w, ends_w)
    launch(_window_average_backward, grad_x.size, THREADS_FROM, np.ascontiguousarray(grad), grad_x, *bounds, divisor)
    return grad_x
