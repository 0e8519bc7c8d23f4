"""The Adam update as one fused numba loop: twin of tinygrad_maas/reference/optim.py.

NumPy makes about a dozen passes over each parameter-sized array (each with a temporary); this reads
and writes each element once. On the gru workload's 10000 x 128 embedding that is most of the optimizer's
time (docs/benchmarks.md).
"""

import math

import numpy as np
from numba import njit, prange


@njit(parallel=True, cache=True, error_model="numpy")
def _adam(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, amsgrad, lr, beta1, beta2, eps, weight_decay, step,
          decoupled):
    step_size = lr / (1.0 - beta1 ** step)
    correction2 = math.sqrt(1.0 - beta2 ** step)
    decay = 1.0 - lr * weight_decay
    for i in prange(param.shape[0]):
        g = grad[i]
        if weight_decay != 0.0:
            if decoupled:
                param[i] *= decay
            else:
                g += weight_decay * param[i]
        m = beta1 * exp_avg[i] + (1.0 - beta1) * g
        v = beta2 * exp_avg_sq[i] + (1.0 - beta2) * g * g
        exp_avg[i] = m
        exp_avg_sq[i] = v
        if amsgrad:
            v = max(max_exp_avg_sq[i], v)
            max_exp_avg_sq[i] = v
        param[i] -= step_size * m / (math.sqrt(v) / correction2 + eps)


def adam_step(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, lr, beta1, beta2, eps, weight_decay, step,
              decoupled):
    arrays = (param, grad, exp_avg, exp_avg_sq) + (() if max_exp_avg_sq is None else (max_exp_avg_sq,))
    if not all(a.flags.c_contiguous for a in arrays):  # views of a parameter: the NumPy path handles strides
        from tinygrad_maas.reference import optim as reference

        return reference.adam_step(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, lr, beta1, beta2, eps,
                                   weight_decay, step, decoupled)
    amsgrad = max_exp_avg_sq is not None
    flat = lambda a: a.reshape(-1)  # noqa: E731  (views: contiguous arrays reshape without copying)
    _adam(flat(param), flat(grad), flat(exp_avg), flat(exp_avg_sq),
          flat(max_exp_avg_sq) if amsgrad else flat(exp_avg_sq), amsgrad, float(lr), float(beta1), float(beta2),
          float(eps), float(weight_decay), int(step), bool(decoupled))
