"""Gradient clipping, as torch.nn.utils."""

import math

import numpy as np

from ..autograd.grads import zero_grads  # noqa: F401  (nn.utils.zero_grads, as it was)
from ..tensor import Tensor, make_tensor


def _grads(parameters):
    parameters = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    return [p.grad for p in parameters if p.grad is not None]


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """Scale all gradients together so their total norm is at most max_norm:
        total = ||(||g_1||, ||g_2||, ...)||   (the norm of all gradients as one vector)
        g = g * min(1, max_norm / (total + 1e-6))
    Returns the total norm (before clipping) as a tensor."""
    grads = _grads(parameters)
    if not grads:
        return make_tensor(np.asarray(0.0, dtype=np.float32), None)
    norm_type = float(norm_type)
    if math.isinf(norm_type):
        total = max(float(np.abs(g.array).max()) if g.array.size else 0.0 for g in grads)
    else:
        total = sum(float((np.abs(g.array) ** norm_type).sum()) for g in grads) ** (1.0 / norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"clip_grad_norm_(): the total norm of order {norm_type} of the gradients is {total}; "
            "set error_if_nonfinite=False to clip anyway"
        )
    coefficient = max_norm / (total + 1e-6)
    if coefficient < 1:
        for g in grads:
            g.array *= coefficient
    return make_tensor(np.asarray(total, dtype=grads[0].array.dtype), None)


def clip_grad_value_(parameters, clip_value):
    """Clamp every gradient element into [-clip_value, clip_value], in place."""
    for g in _grads(parameters):
        np.clip(g.array, -clip_value, clip_value, out=g.array)
