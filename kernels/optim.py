"""The Adam and SGD updates as fused numba loops: twins of tinygrad_maas/reference/optim.py.

NumPy makes about a dozen passes over each parameter-sized array for Adam, and five for SGD with
momentum (each with a temporary); these loops read and write each element once. On the gru workload's
10000 x 128 embedding that was most of the optimizer's time (docs/benchmarks.md).

A gradient that is not contiguous (a strided view) is copied once. The loops are compiled for
C-contiguous float32 and float64 parameters and state; backend.optimizer_kernels sends anything else (a
parameter made out of a strided view, float16) to the NumPy twin.
"""

import math

import numpy as np
from numba import prange

from .threads import compiled_twice

# Elements below which the calling thread alone beats waking numba's threads (the serial builds): Adam's
# square root and division make its elements heavier than SGD's.
ADAM_THREADS_FROM = 1 << 16
SGD_THREADS_FROM = 1 << 19


def _adam_driver(
    param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, amsgrad, lr, beta1, beta2, eps, weight_decay, step, decoupled
):
    step_size = lr / (1.0 - beta1**step)
    correction2 = math.sqrt(1.0 - beta2**step)
    decay = 1.0 - lr * weight_decay
    for i in prange(param.shape[0]):
        # Every option is a choice between values, never a store under a branch: LLVM then turns the branches
        # into selects and vectorises the loop (with `param[i] *= decay` under `if`, it stayed scalar: 4x
        # slower on a 48000-element weight).
        g, p = grad[i], param[i]
        if weight_decay != 0.0:
            if decoupled:
                p *= decay
            else:
                g += weight_decay * p
        m = beta1 * exp_avg[i] + (1.0 - beta1) * g
        v = beta2 * exp_avg_sq[i] + (1.0 - beta2) * g * g
        exp_avg[i] = m
        exp_avg_sq[i] = v
        if amsgrad:
            v = max(max_exp_avg_sq[i], v)
            max_exp_avg_sq[i] = v
        param[i] = p - step_size * m / (math.sqrt(v) / correction2 + eps)


# Most parameters of a small model are below the thresholds (a bias, a 120 x 84 weight): their serial builds
# skip launch's thread-count switch and the parallel region's start, a few us per parameter and step.
_adam, _adam_serial = compiled_twice(_adam_driver, "_adam", error_model="numpy")


def adam_step(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, lr, beta1, beta2, eps, weight_decay, step, decoupled):
    grad = np.ascontiguousarray(grad)
    amsgrad = max_exp_avg_sq is not None
    flat = lambda a: a.reshape(-1)  # noqa: E731  (views: contiguous arrays reshape without copying)
    (_adam if param.size >= ADAM_THREADS_FROM else _adam_serial)(
        flat(param),
        flat(grad),
        flat(exp_avg),
        flat(exp_avg_sq),
        flat(max_exp_avg_sq) if amsgrad else flat(exp_avg_sq),
        amsgrad,
        float(lr),
        float(beta1),
        float(beta2),
        float(eps),
        float(weight_decay),
        int(step),
        bool(decoupled),
    )


def _sgd_driver(param, grad, buffer, lr, momentum, keep, weight_decay, nesterov, first):
    """keep = 1 - dampening. The scalars arrive in param's dtype, so float32 stays float32 as in NumPy."""
    for i in prange(param.shape[0]):
        g = grad[i]
        if weight_decay != 0:
            g += weight_decay * param[i]
        if momentum != 0:
            b = g if first else momentum * buffer[i] + keep * g
            buffer[i] = b
            g = g + momentum * b if nesterov else b
        param[i] -= lr * g


_sgd, _sgd_serial = compiled_twice(_sgd_driver, "_sgd", error_model="numpy")


def sgd_step(param, grad, momentum_buffer, lr, momentum, dampening, weight_decay, nesterov, first):
    grad = np.ascontiguousarray(grad)
    scalar = param.dtype.type
    buffer = param if momentum_buffer is None else momentum_buffer  # unread without momentum
    (_sgd if param.size >= SGD_THREADS_FROM else _sgd_serial)(
        param.reshape(-1),
        grad.reshape(-1),
        buffer.reshape(-1),
        scalar(lr),
        scalar(momentum),
        scalar(1 - dampening),
        scalar(weight_decay),
        bool(nesterov),
        bool(first),
    )
