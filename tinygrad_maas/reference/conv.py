"""im2col / col2im in NumPy: the reference twins of kernels/conv.py.

A convolution is a matrix product once every receptive field is copied out as a column:

    cols[n, c, i, j, y, x] = padded[n, c, y * stride_h + i * dilation_h, x * stride_w + j * dilation_w]

so that out[n, o, y, x] = sum_{c,i,j} weight[o, c, i, j] * cols[n, c, i, j, y, x] is one matmul of the
weight (O, C*kh*kw) with cols (C*kh*kw, Ho*Wo). col2im is the adjoint (transpose) of im2col: it adds each
column entry back into the input position it was copied from, which is exactly the backward of im2col.
"""

import numpy as np


def im2col(padded, kernel_h, kernel_w, stride_h, stride_w, dilation_h, dilation_w, out_h, out_w):
    """Columns of shape (N, C * kernel_h * kernel_w, out_h * out_w) from a padded (N, C, H, W) input."""
    n, c = padded.shape[:2]
    cols = np.empty((n, c, kernel_h, kernel_w, out_h, out_w), dtype=padded.dtype)
    for i in range(kernel_h):  # one strided slice per kernel offset: kernel_h * kernel_w NumPy copies
        top = i * dilation_h
        for j in range(kernel_w):
            left = j * dilation_w
            cols[:, :, i, j] = padded[:, :, top:top + stride_h * (out_h - 1) + 1:stride_h,
                                      left:left + stride_w * (out_w - 1) + 1:stride_w]
    return cols.reshape(n, c * kernel_h * kernel_w, out_h * out_w)


def col2im(cols, padded_shape, kernel_h, kernel_w, stride_h, stride_w, dilation_h, dilation_w, out_h, out_w):
    """The adjoint of im2col: sum each column entry into the (N, C, H, W) position it came from."""
    n, c = padded_shape[:2]
    cols = cols.reshape(n, c, kernel_h, kernel_w, out_h, out_w)
    grad = np.zeros(padded_shape, dtype=cols.dtype)
    for i in range(kernel_h):
        top = i * dilation_h
        for j in range(kernel_w):
            left = j * dilation_w
            grad[:, :, top:top + stride_h * (out_h - 1) + 1:stride_h,
                 left:left + stride_w * (out_w - 1) + 1:stride_w] += cols[:, :, i, j]
    return grad
