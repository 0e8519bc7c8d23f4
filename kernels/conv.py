"""im2col / col2im as numba kernels: twins of tinygrad_maas/reference/conv.py (same signatures, same
column layout cols[c, i, j, n, y, x]).

Parallel over the N * C input planes: each plane's columns (and, in col2im, each plane's gradient) belong
to one thread only, so no two threads ever add into the same element.
"""

import numpy as np
from numba import njit, prange

from .threads import launch

# Elements of columns below which the calling thread alone beats waking numba's threads (threads.launch).
THREADS_FROM = 1 << 18


@njit(parallel=True, cache=True, error_model="numpy")
def _im2col_into(padded, cols, kernel_h, kernel_w, stride_h, stride_w, dilation_h, dilation_w):
    n, c = padded.shape[0], padded.shape[1]
    out_h, out_w = cols.shape[4], cols.shape[5]
    for plane in prange(n * c):
        b, ch = plane % n, plane // n
        for i in range(kernel_h):
            for j in range(kernel_w):
                for y in range(out_h):
                    source = padded[b, ch, y * stride_h + i * dilation_h, j * dilation_w :]
                    into = cols[ch, i, j, b, y]
                    if stride_w == 1:  # as in col2im: a unit-stride loop, which vectorises
                        for x in range(out_w):
                            into[x] = source[x]
                    else:
                        for x in range(out_w):
                            into[x] = source[x * stride_w]


@njit(parallel=True, cache=True, error_model="numpy")
def _col2im_into(cols, grad, kernel_h, kernel_w, stride_h, stride_w, dilation_h, dilation_w):
    n, c = grad.shape[0], grad.shape[1]
    out_h, out_w = cols.shape[4], cols.shape[5]
    for plane in prange(n * c):
        b, ch = plane % n, plane // n
        for i in range(kernel_h):
            for j in range(kernel_w):
                for y in range(out_h):
                    into = grad[b, ch, y * stride_h + i * dilation_h, j * dilation_w :]
                    values = cols[ch, i, j, b, y]
                    if stride_w == 1:  # the common case gets a loop over unit strides, which vectorises
                        for x in range(out_w):
                            into[x] += values[x]
                    else:
                        for x in range(out_w):
                            into[x * stride_w] += values[x]


def im2col(padded, kernel_h, kernel_w, stride_h, stride_w, dilation_h, dilation_w, out_h, out_w):
    n, c = padded.shape[:2]
    cols = np.empty((c, kernel_h, kernel_w, n, out_h, out_w), dtype=padded.dtype)
    geometry = (kernel_h, kernel_w, stride_h, stride_w, dilation_h, dilation_w)
    launch(_im2col_into, cols.size, THREADS_FROM, np.ascontiguousarray(padded), cols, *geometry)
    return cols.reshape(c * kernel_h * kernel_w, n * out_h * out_w)


def col2im(cols, padded_shape, kernel_h, kernel_w, stride_h, stride_w, dilation_h, dilation_w, out_h, out_w):
    n, c = padded_shape[:2]
    grad = np.zeros(padded_shape, dtype=cols.dtype)
    six_d = np.ascontiguousarray(cols).reshape(c, kernel_h, kernel_w, n, out_h, out_w)
    launch(
        _col2im_into,
        six_d.size,
        THREADS_FROM,
        six_d,
        grad,
        kernel_h,
        kernel_w,
        stride_h,
        stride_w,
        dilation_h,
        dilation_w,
    )
    return grad
