"""Conv2d, ReLU and MaxPool2d(2) as one op: the block most convolutional networks repeat.

    y = max_pool2d(relu(conv2d(x, W, b)), 2)

Run as three ops, the convolution's output is written, read and written again by ReLU, read by the pool,
and in backward three gradients of that size are made and transposed. Here the convolution's product
(W_g @ im2col(x), laid out (O, N, Ho, Wo)) goes straight into one pass that adds the bias, takes each 2 x 2
window's maximum and applies ReLU to it (reference/conv_epilogue.py has the math): only the pooled quarter
is written, with each window's int8 position of its maximum (-1 where ReLU blocked it).

Backward, with g = dL/dy:
    dL/dproduct[o, n, 2y + i, 2x + j] = g[n, o, y, x] where the window's maximum sat at (i, j) and passed ReLU
    dL/db[o] = sum of those g                               (one pass, in the product's layout)
    dL/dW, dL/dx                                            as Conv2d's, from dL/dproduct (ops/conv.py)

nn.Sequential calls this op for a Conv2d, ReLU, MaxPool2d(2) run of modules (nn/fusion.py). With
create_graph the gradient is recomputed through the three ops themselves (autograd/replay.py).
"""

import numpy as np

from .. import backend
from ..autograd.function import Function
from ..autograd.replay import gradients_by_replay
from . import either
from .conv import Conv2d
from .pool import MaxPool2d
from .unary import Relu


class Conv2dReluMaxPool(Function):
    """y = max_pool2d(relu(conv2d(x, W, b)), 2), the pool 2 x 2 at stride 2 (floor mode).

    dL/dproduct = g sent to each window's maximum where it was positive (else 0); dL/db = its sum over
    n, y, x; dL/dW = dL/dproduct @ cols^T; dL/dx = col2im(W^T @ dL/dproduct).
    """

    saved_roles = (None, None, "x", "weight", None, "bias")

    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding, dilation, groups):
        product = Conv2d.product(ctx, x, weight, stride, padding, dilation, groups)
        shift = np.zeros(weight.shape[0], dtype=product.dtype) if bias is None else bias
        pooled, where = backend.kernels("conv_epilogue").bias_relu_max_pool_2x2(product, shift)
        ctx.save_for_backward(*ctx.saved_tensors, where, bias)
        ctx.product_shape, ctx.arguments = product.shape, (stride, padding, dilation, groups)
        return pooled

    @staticmethod
    def backward(ctx, grad):
        x, weight, where, bias = ctx.saved_tensors[2:]
        if either.is_tensor(grad):
            return gradients_by_replay(ctx, grad, Conv2dReluMaxPool.definition(ctx), (x, weight, bias))
        epilogue = backend.kernels("conv_epilogue")
        grad_product, grad_bias = epilogue.bias_relu_max_pool_2x2_backward(grad, where, ctx.product_shape)
        grad_x, grad_weight = Conv2d.input_and_weight_grads(ctx, grad_product)
        return grad_x, grad_weight, grad_bias if ctx.needs_input_grad[2] else None

    @staticmethod
    def definition(ctx):
        """The op in the three ops it stands for, on Tensors (for create_graph)."""
        stride, padding, dilation, groups = ctx.arguments

        def three_ops(x, weight, bias):
            arguments = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
            out = Relu.apply(Conv2d.apply(x, weight, bias, **arguments))
            size = (out.shape[2] // 2, out.shape[3] // 2)
            return MaxPool2d.apply(out, kernel=(2, 2), stride=(2, 2), padding=(0, 0), dilation=(1, 1), out_size=size)

        return three_ops
