"""Adam and AdamW, as torch.optim.Adam / AdamW."""

import numpy as np

from .. import backend
from .optimizer import Optimizer, check_non_negative, hyperparameters


class Adam(Optimizer):
    """For each parameter p with gradient g (negated if maximize), at step t = 1, 2, ...:

        g = g + weight_decay * p                       (Adam: L2 penalty in the gradient)
        m = beta1 * m + (1 - beta1) * g                (first moment)
        v = beta2 * v + (1 - beta2) * g^2              (second moment)
        v_hat = max(v_hat, v) if amsgrad else v
        p = p - lr / (1 - beta1^t) * m / (sqrt(v_hat) / sqrt(1 - beta2^t) + eps)

    The update itself is the backend's adam_step (a fused numba loop, or its NumPy twin).
    """

    decoupled_weight_decay = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *, maximize=False):
        super().__init__(params, hyperparameters(locals(), betas=tuple(betas)))

    def _validate(self, group):
        check_non_negative(
            learning_rate=group["lr"], epsilon_value=group["eps"], weight_decay_value=group["weight_decay"]
        )
        for i, beta in enumerate(group["betas"]):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"Invalid beta parameter at index {i}: {beta}")

    def _update(self, param, grad, state, group):
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(param)
            state["exp_avg_sq"] = np.zeros_like(param)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = np.zeros_like(param)
        state["step"] += 1
        beta1, beta2 = group["betas"]
        moments = [state["exp_avg"], state["exp_avg_sq"]] + ([state["max_exp_avg_sq"]] if group["amsgrad"] else [])
        backend.optimizer_kernels(param, *moments).adam_step(
            param,
            grad,
            state["exp_avg"],
            state["exp_avg_sq"],
            state.get("max_exp_avg_sq"),
            group["lr"],
            beta1,
            beta2,
            group["eps"],
            group["weight_decay"],
            state["step"],
            self.decoupled_weight_decay,
        )


class AdamW(Adam):
    """Adam with decoupled weight decay: p = p * (1 - lr * weight_decay) before the Adam step (which then
    sees the plain gradient). Default weight_decay 0.01, as PyTorch."""

    decoupled_weight_decay = True

    def __init__(
        self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *, maximize=False
    ):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize)
