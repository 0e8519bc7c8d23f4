"""im2col / col2im as numba kernels: twins of tinygrad_maas/reference/conv.py (same signatures, same
column layout cols[c, i, j, n, y, x]).

Parallel over the N * C input planes: each plane's columns (and, in col2im, each plane's gradient) belong
to one thread only, so no two threads ever add into the same element.
"""

import numpy as np
from numba import prange

from .threads import compiled_twice

# Elements of columns below which the calling thread alone (the serial build) beats waking numba's threads.
THREADS_FROM = 1 << 18


def _im2col_driver(padded, cols, kernel_h, kernel_w, stride_h, stride_w, dilation_h, dilation_w):
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


def _col2im_driver(cols, grad, kernel_h, kernel_w, stride_h, stride_w, dilation_h, dilation_w):
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


# A small layer (one image at inference) skips the parallel region's start as well as the waking: threads.py
_im2col_into, _im2col_into_serial = compiled_twice(_im2col_driver, "_im2col_into", error_model="numpy")
_col2im_into, _col2im_into_serial = compiled_twice(_col2im_driver, "_col2im_into", error_model="numpy")


def im2col(padded, kernel_h, kernel_w, stride_h, stride_w, dilation_h, dilation_w, out_h, out_w):
    n, c = padded.shape[:2]
    cols = np.empty((c, kernel_h, kernel_w, n, out_h, out_w), dtype=padded.dtype)
    geometry = (kernel_h, kernel_w, stride_h, stride_w, dilation_h, dilation_w)
    kernel = _im2col_into if cols.size >= THREADS_FROM else _im2col_into_serial
    kernel(np.ascontiguousarray(padded), cols, *geometry)
    return cols.reshape(c * kernel_h * kernel_w, n * out_h * out_w)


def col2im(cols, padded_shape, kernel_h, kernel_w, stride_h, stride_w, dilation_h, dilation_w, out_h, out_w):
    n, c = padded_shape[:2]
    grad = np.zeros(padded_shape, dtype=cols.dtype)
    six_d = np.ascontiguousarray(cols).reshape(c, kernel_h, kernel_w, n, out_h, out_w)
    kernel = _col2im_into if six_d.size >= THREADS_FROM else _col2im_into_serial
    kernel(six_d, grad, kernel_h, kernel_w, stride_h, stride_w, dilation_h, dilation_w)
    return grad
