"""softmax and log_softmax along one axis, each with its own closed-form backward.

softmax:      y_i = e^{x_i} / sum_j e^{x_j}
              dL/dx_i = y_i (g_i - sum_j g_j y_j)        (g = dL/dy; the Jacobian is diag(y) - y y^T)
log_softmax:  y_i = x_i - log sum_j e^{x_j}
              dL/dx_i = g_i - softmax(x)_i sum_j g_j     (the Jacobian is I - 1 softmax^T)

Both subtract the max first: e^{x - m} never overflows, and the result is the same.
"""

import numpy as np

from ..autograd.function import Function


class Softmax(Function):
    @staticmethod
    def forward(ctx, x, axis):
        exps = np.exp(x - np.amax(x, axis=axis, keepdims=True, initial=-np.inf))
        y = exps / exps.sum(axis=axis, keepdims=True)
        ctx.axis = axis
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return y * (grad - (grad * y).sum(axis=ctx.axis, keepdims=True))


class LogSoftmax(Function):
    @staticmethod
    def forward(ctx, x, axis):
        shifted = x - np.amax(x, axis=axis, keepdims=True, initial=-np.inf)
        y = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
        ctx.axis = axis
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad - np.exp(y) * grad.sum(axis=ctx.axis, keepdims=True)
