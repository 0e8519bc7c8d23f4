"""Pooling in NumPy: the reference twins of kernels/pool.py.

window_max:      out[n, c, y, x] = max over the kernel window at (y * stride, x * stride) of a padded
                 input (padding is -inf), and where in its window the (first) maximum is: i * kernel_w + j
                 for window row i, column j (a small integer: int8 for windows of up to 127 elements).
                 Backward sends each output gradient to that one position (summing where windows
                 overlap).
window_average:  out[n, c, y, x] = sum(x[n, c, h0:h1, w0:w1]) / divisor[y, x] with per-axis window bounds
                 given as arrays (avg_pool2d and adaptive_avg_pool2d differ only in the bounds and divisor).
                 Backward spreads each output gradient evenly over its window: grad / divisor.
"""

import numpy as np


def window_position_dtype(kernel_h, kernel_w):
    """The smallest integer type that holds every position i * kernel_w + j of a window."""
    return np.int8 if kernel_h * kernel_w <= 127 else np.int32


def window_max(padded, kernel_h, kernel_w, stride_h, stride_w, dilation_h, dilation_w, out_h, out_w):
    best = np.full(padded.shape[:2] + (out_h, out_w), -np.inf, dtype=padded.dtype)
    where = np.zeros(best.shape, dtype=window_position_dtype(kernel_h, kernel_w))
    rows = np.arange(out_h) * stride_h
    columns = np.arange(out_w) * stride_w
    for i in range(kernel_h):  # scan the window in row-major order: the first maximum wins, NaN wins
        for j in range(kernel_w):
            values = padded[:, :, (rows + i * dilation_h)[:, None], (columns + j * dilation_w)[None, :]]
            better = (values > best) | np.isnan(values)
            best = np.where(better, values, best)
            where[better] = i * kernel_w + j
    return best, where


def window_max_positions(where, padded_shape, kernel_w, stride_h, stride_w, dilation_h, dilation_w):
    """Each output's maximum as a flat index into its padded input plane: (N * C, out_h * out_w)."""
    n, c, _, width = padded_shape
    out_h, out_w = where.shape[2:]
    i, j = np.divmod(where.astype(np.int64), kernel_w)
    rows = np.arange(out_h)[:, None] * stride_h + i * dilation_h
    columns = np.arange(out_w)[None, :] * stride_w + j * dilation_w
    return (rows * width + columns).reshape(n * c, -1)


def window_max_backward(grad, where, padded_shape, kernel_h, kernel_w, stride_h, stride_w, dilation_h, dilation_w):
    n, c, height, width = padded_shape
    grad_padded = np.zeros((n * c, height * width), dtype=grad.dtype)
    positions = window_max_positions(where, padded_shape, kernel_w, stride_h, stride_w, dilation_h, dilation_w)
    np.add.at(grad_padded, (np.arange(n * c)[:, None], positions), grad.reshape(n * c, -1))
    return grad_padded.reshape(padded_shape)


def window_average(x, starts_h, ends_h, starts_w, ends_w, divisor):
    out = np.empty(x.shape[:2] + divisor.shape, dtype=x.dtype)
    for y, (top, bottom) in enumerate(zip(starts_h, ends_h)):
        for z, (left, right) in enumerate(zip(starts_w, ends_w)):
            out[:, :, y, z] = x[:, :, top:bottom, left:right].sum(axis=(2, 3)) / divisor[y, z]
    return out


def window_average_backward(grad, input_shape, starts_h, ends_h, starts_w, ends_w, divisor):
    grad_x = np.zeros(input_shape, dtype=grad.dtype)
    for y, (top, bottom) in enumerate(zip(starts_h, ends_h)):
        for z, (left, right) in enumerate(zip(starts_w, ends_w)):
            grad_x[:, :, top:bottom, left:right] += (grad[:, :, y, z] / divisor[y, z])[:, :, None, None]
    return grad_x
