"""im2col / col2im in NumPy: the reference twins of kernels/conv.py.

A convolution is a matrix product once every receptive field is copied out as a column:

    cols[c, i, j, n, y, x] = padded[n, c, y * stride_h + i * dilation_h, x * stride_w + j * dilation_w]

Viewed as a matrix of shape (C * kh * kw, N * Ho * Wo), `weight.reshape(O, C * kh * kw) @ cols` is the whole
convolution of the whole batch in one matrix product: one large GEMM runs far faster than N small ones.
col2im is the adjoint (transpose) of im2col: it adds each column entry back into the input position it was
copied from, which is exactly the backward of im2col.
"""

import numpy as np


def _window(top, left, stride_h, stride_w, out_h, out_w):
    """The slices picking, for one kernel offset, the input element under it at every output position."""
    return (
        slice(top, top + stride_h * (out_h - 1) + 1, stride_h),
        slice(left, left + stride_w * (out_w - 1) + 1, stride_w),
    )


def im2col(padded, kernel_h, kernel_w, stride_h, stride_w, dilation_h, dilation_w, out_h, out_w):
    """Columns of shape (C * kernel_h * kernel_w, N * out_h * out_w) from a padded (N, C, H, W) input."""
    n, c = padded.shape[:2]
    cols = np.empty((c, kernel_h, kernel_w, n, out_h, out_w), dtype=padded.dtype)
    for i in range(kernel_h):  # one strided copy per kernel offset: kernel_h * kernel_w NumPy copies
        for j in range(kernel_w):
            rows, columns = _window(i * dilation_h, j * dilation_w, stride_h, stride_w, out_h, out_w)
            cols[:, i, j] = padded[:, :, rows, columns].transpose(1, 0, 2, 3)
    return cols.reshape(c * kernel_h * kernel_w, n * out_h * out_w)


def col2im(cols, padded_shape, kernel_h, kernel_w, stride_h, stride_w, dilation_h, dilation_w, out_h, out_w):
    """The adjoint of im2col: sum each column entry into the (N, C, H, W) position it came from."""
    n, c = padded_shape[:2]
    cols = cols.reshape(c, kernel_h, kernel_w, n, out_h, out_w)
    grad = np.zeros(padded_shape, dtype=cols.dtype)
    for i in range(kernel_h):
        for j in range(kernel_w):
            rows, columns = _window(i * dilation_h, j * dilation_w, stride_h, stride_w, out_h, out_w)
            grad[:, :, rows, columns] += cols[:, i, j].transpose(1, 0, 2, 3)
    return grad
