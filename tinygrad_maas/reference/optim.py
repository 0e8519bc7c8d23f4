"""The Adam update in NumPy: the reference twin of kernels/optim.py (the algorithm: optim/adam.py)."""

import numpy as np


def adam_step(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, lr, beta1, beta2, eps, weight_decay, step,
              decoupled):
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
    denominator = np.sqrt(second) / np.sqrt(1 - beta2 ** step) + eps
    param -= (lr / (1 - beta1 ** step)) * exp_avg / denominator
