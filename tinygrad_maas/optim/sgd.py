"""Stochastic gradient descent with momentum, as torch.optim.SGD."""

import numpy as np

from .. import backend
from .optimizer import Optimizer, check_non_negative, hyperparameters


class SGD(Optimizer):
    """For each parameter p with gradient g (negated if maximize):

        g = g + weight_decay * p
        if momentum:  b = g on the first step, else b = momentum * b + (1 - dampening) * g
                      g = g + momentum * b if nesterov else b
        p = p - lr * g

    as PyTorch's SGD.
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *, maximize=False):
        super().__init__(params, hyperparameters(locals()))

    def _validate(self, group):
        check_non_negative(
            learning_rate=group["lr"], momentum_value=group["momentum"], weight_decay_value=group["weight_decay"]
        )
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")

    def _update(self, param, grad, state, group):
        """The update itself is the backend's sgd_step (one fused numba loop, or its NumPy twin)."""
        momentum = group["momentum"]
        buffer = state.get("momentum_buffer") if momentum else None
        first = momentum and buffer is None
        if first:
            buffer = state["momentum_buffer"] = np.empty_like(param)
        state_arrays = (param,) if buffer is None else (param, buffer)
        backend.optimizer_kernels(*state_arrays).sgd_step(
            param,
            grad,
            buffer,
            group["lr"],
            momentum,
            group["dampening"],
            group["weight_decay"],
            group["nesterov"],
            first,
        )
