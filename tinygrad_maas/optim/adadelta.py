"""Adadelta, as torch.optim.Adadelta (Zeiler 2012): a step whose size adapts per parameter from running
averages of squared gradients and of squared updates, so the units of the update match the parameter's."""

import numpy as np

from .optimizer import Optimizer, check_non_negative, hyperparameters


class Adadelta(Optimizer):
    """g = g + weight_decay * p;  v = rho * v + (1 - rho) * g^2;
    delta = sqrt(u + eps) / sqrt(v + eps) * g;  u = rho * u + (1 - rho) * delta^2;  p = p - lr * delta."""

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, *, maximize=False):
        super().__init__(params, hyperparameters(locals()))

    def _validate(self, group):
        check_non_negative(
            learning_rate=group["lr"], epsilon_value=group["eps"], weight_decay_value=group["weight_decay"]
        )
        if not 0.0 <= group["rho"] <= 1.0:
            raise ValueError(f"Invalid rho value: {group['rho']}")

    def _update(self, param, grad, state, group):
        rho, eps = group["rho"], group["eps"]
        if not state:
            state["step"] = 0
            state["square_avg"] = np.zeros_like(param)
            state["acc_delta"] = np.zeros_like(param)
        state["step"] += 1
        if group["weight_decay"]:
            grad = grad + group["weight_decay"] * param
        square_avg, acc_delta = state["square_avg"], state["acc_delta"]
        square_avg *= rho
        square_avg += (1 - rho) * grad * grad
        delta = np.sqrt(acc_delta + eps) / np.sqrt(square_avg + eps) * grad
        acc_delta *= rho
        acc_delta += (1 - rho) * delta * delta
        param -= group["lr"] * delta
