"""The Adam and SGD updates in NumPy: the reference twins of kernels/optim.py (the algorithms:
optim/adam.py, optim/sgd.py)."""

import numpy as np


def adam_step(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, lr, beta1, beta2, eps, weight_decay, step, decoupled):
    """One Adam(W) step in place on param and the moment arrays. max_exp_avg_sq is None without amsgrad."""
    if weight_decay:
        if decoupled:
            param *= 1 - lr * weight_decay
        else:
            grad = grad + weight_decay * param
    exp_avg *= beta1
    exp_avg += (1 - beta1) * grad
    exp_avg_sq *= beta2
    exp_avg_sq += (1 - beta2) * grad * grad
    second = exp_avg_sq
    if max_exp_avg_sq is not None:
        np.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
        second = max_exp_avg_sq
    denominator = np.sqrt(second) / np.sqrt(1 - beta2**step) + eps
    param -= (lr / (1 - beta1**step)) * exp_avg / denominator


def sgd_step(param, grad, momentum_buffer, lr, momentum, dampening, weight_decay, nesterov, first):
    """One SGD step in place on param and momentum_buffer (None without momentum). On the first step
    (first=True) the buffer takes the gradient itself, as PyTorch's."""
    if weight_decay:
        grad = grad + weight_decay * param
    if momentum:
        if first:
            momentum_buffer[...] = grad
        else:
            momentum_buffer *= momentum
            momentum_buffer += (1 - dampening) * grad
        grad = grad + momentum * momentum_buffer if nesterov else momentum_buffer
    param -= lr * grad
