"""Pooling in NumPy: the reference twins of kernels/pool.py.

window_max:      out[n, c, y, x] = max over the kernel window at (y * stride, x * stride) of a padded
                 input (padding is -inf), and the flat index of the (first) maximum within the padded
                 plane. Backward sends each output gradient to that one index (summing where windows
                 overlap).
window_average:  out[n, c, y, x] = sum(x[n, c, h0:h1, w0:w1]) / divisor[y, x] with per-axis window bounds
                 given as arrays (avg_pool2d and adaptive_avg_pool2d differ only in the bounds and divisor).
                 Backward spreads each output gradient evenly over its window: grad / divisor.
"""

import numpy as np


def window_max(padded, kernel_h, kernel_w, stride_h, stride_w, dilation_h, dilation_w, out_h, out_w):
    n, c, _, width = padded.shape
    best = np.full((n, c, out_h, out_w), -np.inf, dtype=padded.dtype)
    best_index = np.zeros((n, c, out_h, out_w), dtype=np.int64)
    rows = np.arange(out_h) * stride_h
    columns = np.arange(out_w) * stride_w
    for i in range(kernel_h):  # scan the window in row-major order: the first maximum wins, NaN wins
        for j in range(kernel_w):
            r, q = rows + i * dilation_h, columns + j * dilation_w
            values = padded[:, :, r[:, None], q[None, :]]
            better = (values > best) | np.isnan(values)
            best = np.where(better, values, best)
            best_index = np.where(better, r[:, None] * width + q[None, :], best_index)
    return best, best_index


def window_max_backward(grad, indices, padded_shape):
    n, c, height, width = padded_shape
    grad_padded = np.zeros((n * c, height * width), dtype=grad.dtype)
    planes = np.arange(n * c)[:, None]
    np.add.at(grad_padded, (planes, indices.reshape(n * c, -1)), grad.reshape(n * c, -1))
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
