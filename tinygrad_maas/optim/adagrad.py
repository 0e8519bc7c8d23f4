"""Adagrad and RMSprop, as torch.optim.Adagrad / RMSprop."""

import numpy as np

from .optimizer import Optimizer, check_non_negative, hyperparameters


class Adagrad(Optimizer):
    """At step t: g = g + weight_decay * p;  sum = sum + g^2;
    p = p - lr / (1 + (t - 1) * lr_decay) * g / (sqrt(sum) + eps)."""

    def __init__(
        self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10, *, maximize=False
    ):
        super().__init__(params, hyperparameters(locals()))

    def _validate(self, group):
        check_non_negative(
            learning_rate=group["lr"],
            lr_decay=group["lr_decay"],
            weight_decay_value=group["weight_decay"],
            epsilon_value=group["eps"],
            initial_accumulator_value=group["initial_accumulator_value"],
        )

    def _update(self, param, grad, state, group):
        if not state:
            state["step"] = 0
            state["sum"] = np.full_like(param, group["initial_accumulator_value"])
        state["step"] += 1
        if group["weight_decay"]:
            grad = grad + group["weight_decay"] * param
        state["sum"] += grad * grad
        rate = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        param -= rate * grad / (np.sqrt(state["sum"]) + group["eps"])


class RMSprop(Optimizer):
    """g = g + weight_decay * p;  s = alpha * s + (1 - alpha) * g^2
    centered: a = alpha * a + (1 - alpha) * g and the denominator is sqrt(s - a^2) + eps, else sqrt(s) + eps
    momentum > 0: b = momentum * b + g / denominator;  p = p - lr * b;   else p = p - lr * g / denominator."""

    def __init__(
        self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False, *, maximize=False
    ):
        super().__init__(params, hyperparameters(locals()))

    def _validate(self, group):
        check_non_negative(
            learning_rate=group["lr"],
            epsilon_value=group["eps"],
            momentum_value=group["momentum"],
            weight_decay_value=group["weight_decay"],
            alpha_value=group["alpha"],
        )

    def _update(self, param, grad, state, group):
        alpha = group["alpha"]
        if not state:
            state["step"] = 0
            state["square_avg"] = np.zeros_like(param)
            if group["momentum"] > 0:
                state["momentum_buffer"] = np.zeros_like(param)
            if group["centered"]:
                state["grad_avg"] = np.zeros_like(param)
        state["step"] += 1
        if group["weight_decay"]:
            grad = grad + group["weight_decay"] * param
        square_avg = state["square_avg"]
        square_avg *= alpha
        square_avg += (1 - alpha) * grad * grad
        if group["centered"]:
            grad_avg = state["grad_avg"]
            grad_avg *= alpha
            grad_avg += (1 - alpha) * grad
            denominator = np.sqrt(square_avg - grad_avg * grad_avg) + group["eps"]
        else:
            denominator = np.sqrt(square_avg) + group["eps"]
        if group["momentum"] > 0:
            buffer = state["momentum_buffer"]
            buffer *= group["momentum"]
            buffer += grad / denominator
            param -= group["lr"] * buffer
        else:
            param -= group["lr"] * grad / denominator
