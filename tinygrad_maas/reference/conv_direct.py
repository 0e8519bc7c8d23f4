"""Direct convolution in NumPy: the reference twin of kernels/conv_direct.py.

A convolution is a sum over taps. For tap t = (c, i, j) every output position (y, x) reads the input at
(y + i, x + j) of channel c: one shifted window of the input, the same for every output channel, scaled by
that channel's weight. Summed over all taps:

    product[o, n, y, x] = sum over (c, i, j) of weight[o, c, i, j] * padded[n, c, y + i, x + j]

Here each tap is one NumPy outer product of the weights (O,) with the shifted window (N, Ho, Wo); the numba
kernel walks the same taps with the sums for a strip of outputs held in registers. The result is laid out
(O, N, Ho, Wo), as the im2col product of ops/conv.py.
"""

import numpy as np


def direct_product(padded, weight):
    """The stride-1 convolution of a padded (N, C, H, W) input with (O, C, kh, kw) weights: (O, N, Ho, Wo)."""
    n, c, height, width = padded.shape
    out_channels, _, kernel_h, kernel_w = weight.shape
    out_h, out_w = height - kernel_h + 1, width - kernel_w + 1
    product = np.zeros((out_channels, n, out_h, out_w), dtype=padded.dtype)
    for channel in range(c):
        for i in range(kernel_h):
            for j in range(kernel_w):
                window = padded[:, channel, i : i + out_h, j : j + out_w]
                product += weight[:, channel, i, j].reshape(-1, 1, 1, 1) * window
    return product


def direct_weight_grad(padded, grad, kernel_h, kernel_w):
    """dL/dW of direct_product: for tap (c, i, j) the same shifted window of the input, met by every output
    channel's gradient g (O, N, Ho, Wo):  dL/dW[o, c, i, j] = sum over n, y, x of g[o, n, y, x] *
    padded[n, c, y + i, x + j]. One product of g's rows with the window per tap."""
    n, c = padded.shape[:2]
    out_channels, _, out_h, out_w = grad.shape
    rows = grad.reshape(out_channels, -1)
    grad_weight = np.empty((out_channels, c, kernel_h, kernel_w), dtype=padded.dtype)
    for channel in range(c):
        for i in range(kernel_h):
            for j in range(kernel_w):
                window = padded[:, channel, i : i + out_h, j : j + out_w]
                grad_weight[:, channel, i, j] = rows @ window.reshape(-1)
    return grad_weight
