"""What follows a convolution's matrix product, in one pass: bias, ReLU and a 2 x 2 max pool (stride 2).
The NumPy twins of kernels/conv_epilogue.py.

The product of ops/conv.py leaves the convolution as conv[o, n, y, x] (output channel first: the GEMM's
layout). Done as three ops, bias + transpose, ReLU and max_pool2d would each read and write the whole
activation; here it is read once and only the pooled quarter is written:

    pooled[n, o, y, x] = relu(max over the window {2y, 2y+1} x {2x, 2x+1} of (conv[o, n, ., .] + bias[o]))

ReLU and the maximum commute (ReLU is monotone), so the window's maximum is taken first and ReLU applied to
one value in four. The window is scanned in row-major order; the first maximum wins ties and NaN wins (as
max_pool2d). Backward needs, per output, which of the four window positions (0..3, row-major) held the
maximum, and whether ReLU let it through: `where` holds the position, or -1 where the pooled value is not
positive (ReLU's derivative there is 0, NaN included, as PyTorch's). An odd last row or column is in no
window (floor mode), so its gradient is 0.

    dL/dconv[o, n, 2y + i, 2x + j] = dL/dpooled[n, o, y, x]   where where[n, o, y, x] = 2 i + j, else 0
    dL/dbias[o] = sum over n, y, x of dL/dpooled[n, o, y, x] where where[n, o, y, x] >= 0

The gradient is selected, never multiplied by a 0/1 mask, so an infinite upstream gradient leaves blocked
positions at 0. dL/dconv comes out in the product's layout (o, n, y, x), ready for the weight and input
gradients' matrix products.
"""

import numpy as np


def _windows(conv, bias):
    """(N, O, H/2, W/2, 4): each window's four values, bias added, in row-major window order."""
    channels, n, height, width = conv.shape
    out_h, out_w = height // 2, width // 2
    shifted = conv[:, :, : 2 * out_h, : 2 * out_w] + bias.reshape(-1, 1, 1, 1)
    windows = shifted.reshape(channels, n, out_h, 2, out_w, 2).transpose(1, 0, 2, 4, 3, 5)
    return windows.reshape(n, channels, out_h, out_w, 4)


def bias_relu_max_pool_2x2(conv, bias):
    """(pooled (N, O, H/2, W/2), where (same shape, int8)) from conv (O, N, H, W) and bias (O,)."""
    windows = _windows(conv, bias)
    best = windows[..., 0].copy()
    where = np.zeros(best.shape, dtype=np.int8)
    for position in range(1, 4):  # a later position wins only if strictly larger, or NaN
        values = windows[..., position]
        better = (values > best) | np.isnan(values)
        best = np.where(better, values, best)
        where[better] = position
    passed = best > 0
    where[~passed] = -1
    return np.where(passed | np.isnan(best), best, 0).astype(conv.dtype), where


def bias_relu_max_pool_2x2_backward(grad, where, conv_shape):
    """(dL/dconv (O, N, H, W), dL/dbias (O,)) from dL/dpooled (N, O, H/2, W/2) and forward's `where`."""
    grad_conv = np.zeros(conv_shape, dtype=grad.dtype)
    out_h, out_w = where.shape[2:]
    for position in range(4):
        i, j = divmod(position, 2)
        selected = np.where(where == position, grad, 0).transpose(1, 0, 2, 3)
        grad_conv[:, :, i : 2 * out_h : 2, j : 2 * out_w : 2] = selected
    passed = np.where(where >= 0, grad, 0)
    grad_bias = passed.sum(axis=(0, 2, 3), dtype=np.float64).astype(grad.dtype)
    return grad_conv, grad_bias
