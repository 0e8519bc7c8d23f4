"""Pooling ops: max_pool2d, and avg_pool2d / adaptive_avg_pool2d as one "window average".

max pooling      y = max of a window              dy/dx = 1 at the window's (first) maximum, else 0
average pooling  y = sum of a window / divisor    dy/dx = 1 / divisor for every element of the window

The window geometry (where each window starts and ends, what it is divided by) is worked out here in
NumPy, with PyTorch's rules for padding, ceil_mode and count_include_pad; the loops over windows are the
backend's kernels (kernels/pool.py, or their twins in reference/pool.py). 1-D pooling is 2-D pooling of
height 1 (see nn/functional.py).
"""

import math

import numpy as np

from .. import backend
from ..autograd.function import Function
from ..reference.pool import window_max_positions
from . import either
from .arguments import spatial


def pool2d_arguments(input_shape, kernel_size, stride, padding, dilation, ceil_mode, op):
    """(kernel, stride, padding, dilation, output size) of a 2-D pooling call on an (N, C, H, W) input,
    checked as PyTorch checks them: stride defaults to the kernel size, padding is at most half the
    kernel, and the output has at least one element along each axis."""
    kernel = spatial(kernel_size, 2, "kernel_size", op, 1)
    stride = kernel if stride is None or stride == [] else spatial(stride, 2, "stride", op, 1)
    padding, dilation = spatial(padding, 2, "padding", op, 0), spatial(dilation, 2, "dilation", op, 1)
    if any(p > k // 2 for k, p in zip(kernel, padding)):
        raise ValueError(f"{op}(): padding {padding} must be at most half the kernel size {kernel}")
    out_size = tuple(
        pooled_size(n, k, s, p, d, ceil_mode)
        for n, k, s, p, d in zip(input_shape[2:], kernel, stride, padding, dilation)
    )
    if min(out_size) < 1:
        raise ValueError(
            f"{op}(): input of shape {input_shape} is too small for kernel {kernel} (output size {out_size})"
        )
    return kernel, stride, padding, dilation, out_size


def avg_pool2d_windows(input_shape, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
    """The window bounds (rows start, end, columns start, end) and divisors of avg_pool2d: padding counts
    as zeros and (count_include_pad) in the divisor; divisor_override replaces the divisor."""
    if divisor_override is not None and (isinstance(divisor_override, bool) or divisor_override <= 0):
        raise ValueError(f"avg_pool2d(): divisor_override must be a positive number, got {divisor_override!r}")
    kernel, stride, padding, _, out_size = pool2d_arguments(
        input_shape, kernel_size, stride, padding, 1, ceil_mode, "avg_pool2d"
    )
    rows, columns = (
        average_pool_windows(n, k, s, p, ceil_mode, o)
        for n, k, s, p, o in zip(input_shape[2:], kernel, stride, padding, out_size)
    )
    if divisor_override is not None:
        divisor = np.full(out_size, float(divisor_override))
    else:
        part = 2 if count_include_pad else 3
        divisor = np.outer(rows[part], columns[part]).astype(np.float64)
    return (rows[0], rows[1], columns[0], columns[1]), divisor


def adaptive_avg_pool2d_windows(input_shape, output_size):
    """The window bounds and divisors of adaptive average pooling to `output_size` (an int, or a pair whose
    None keeps the input's size)."""
    size = (output_size, output_size) if isinstance(output_size, int) else tuple(output_size)
    size = tuple(n if o is None else o for n, o in zip(input_shape[2:], size))
    if len(size) != 2 or any(isinstance(o, bool) or not isinstance(o, int) or o < 1 for o in size):
        raise ValueError(f"adaptive_avg_pool2d(): output_size must be a positive int or pair, got {output_size!r}")
    (top, bottom), (left, right) = (adaptive_windows(n, o) for n, o in zip(input_shape[2:], size))
    return (top, bottom, left, right), np.outer(bottom - top, right - left).astype(np.float64)


def pooled_size(size, kernel, stride, padding, dilation, ceil_mode):
    """Output length along one axis (PyTorch's formula): with ceil_mode a last partial window is kept,
    unless it would start in the right padding."""
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    out = (-(-span // stride) if ceil_mode else span // stride) + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1
    return out


class MaxPool2d(Function):
    """y = max of each window.   dL/dx = the output gradient sent to each window's maximum (summed where
    windows overlap): linear in the gradient, with the positions of the maxima as constant coefficients."""

    saved_roles = (None,)

    @staticmethod
    def forward(ctx, x, kernel, stride, padding, dilation, out_size):
        (kernel_h, kernel_w), (stride_h, stride_w) = kernel, stride
        (pad_h, pad_w), (dilation_h, dilation_w), (out_h, out_w) = padding, dilation, out_size
        # pad with -inf: the left/top padding, and on the right/bottom as far as the last window reaches
        reach_h = (out_h - 1) * stride_h + dilation_h * (kernel_h - 1) + 1
        reach_w = (out_w - 1) * stride_w + dilation_w * (kernel_w - 1) + 1
        extra_h = max(reach_h - x.shape[2] - pad_h, 0)
        extra_w = max(reach_w - x.shape[3] - pad_w, 0)
        padded = x
        if pad_h or pad_w or extra_h or extra_w:
            padded = np.pad(x, ((0, 0), (0, 0), (pad_h, extra_h), (pad_w, extra_w)), constant_values=-np.inf)
        window = (kernel_h, kernel_w, stride_h, stride_w, dilation_h, dilation_w)
        out, where = backend.kernels("pool").window_max(padded, *window, out_h, out_w)
        ctx.save_for_backward(where)  # each maximum's position in its window
        ctx.window, ctx.padded_shape, ctx.padding, ctx.input_shape = window, padded.shape, padding, x.shape
        return out

    @staticmethod
    def backward(ctx, grad):
        return either.linear(grad, ctx, MaxPool2d.to_maxima, MaxPool2d.from_maxima)

    @staticmethod
    def to_maxima(ctx, grad):
        """Each output gradient added at its window's maximum, in the input's shape."""
        (where,) = ctx.saved_tensors
        grad_padded = backend.kernels("pool").window_max_backward(grad, where, ctx.padded_shape, *ctx.window)
        (pad_h, pad_w), (_, _, height, width) = ctx.padding, ctx.input_shape
        return grad_padded[:, :, pad_h : pad_h + height, pad_w : pad_w + width]

    @staticmethod
    def from_maxima(ctx, values):
        """The transpose of to_maxima: read each window's maximum position from an input-shaped array."""
        (where,) = ctx.saved_tensors
        (pad_h, pad_w), (n, c, height, width) = ctx.padding, ctx.input_shape
        padded = np.zeros(ctx.padded_shape, dtype=values.dtype)
        padded[:, :, pad_h : pad_h + height, pad_w : pad_w + width] = values
        positions = window_max_positions(where, ctx.padded_shape, *ctx.window[1:])
        return np.take_along_axis(padded.reshape(n * c, -1), positions, axis=1).reshape(where.shape)


class WindowAverage(Function):
    """y[y, x] = sum of x over rows starts_h[y]:ends_h[y], columns starts_w[x]:ends_w[x], / divisor[y, x].

    dL/dx[i, j] = sum over the windows holding (i, j) of dL/dy / divisor: linear, the transpose of forward.
    """

    @staticmethod
    def forward(ctx, x, bounds, divisor):
        ctx.bounds, ctx.divisor, ctx.input_shape = bounds, divisor, x.shape
        return backend.kernels("pool").window_average(x, *bounds, divisor)

    @staticmethod
    def backward(ctx, grad):
        return either.linear(grad, ctx, WindowAverage.spread, WindowAverage.average)

    @staticmethod
    def spread(ctx, grad):
        """dL/dx: each output gradient divided by its divisor and added over its window."""
        return backend.kernels("pool").window_average_backward(grad, ctx.input_shape, *ctx.bounds, ctx.divisor)

    @staticmethod
    def average(ctx, values):
        """The transpose of spread: the window averages themselves (this op's forward)."""
        return backend.kernels("pool").window_average(values, *ctx.bounds, ctx.divisor)


def average_pool_windows(size, kernel, stride, padding, ceil_mode, out):
    """Per-axis window bounds of avg_pool2d, clipped to the input, and the per-axis divisor parts:
    (starts, ends, size counting padding, size without padding), following PyTorch's kernel."""
    starts = np.arange(out) * stride - padding
    ends = np.minimum(starts + kernel, size + padding)
    with_padding = ends - starts
    starts, ends = np.maximum(starts, 0), np.minimum(ends, size)
    return starts.astype(np.int64), ends.astype(np.int64), with_padding, ends - starts


def adaptive_windows(size, out):
    """Window i of adaptive pooling covers floor(i * size / out) up to ceil((i + 1) * size / out)."""
    starts = np.array([(i * size) // out for i in range(out)], dtype=np.int64)
    ends = np.array([math.ceil((i + 1) * size / out) for i in range(out)], dtype=np.int64)
    return starts, ends
