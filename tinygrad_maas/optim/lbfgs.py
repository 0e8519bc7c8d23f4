"""L-BFGS, as torch.optim.LBFGS: a quasi-Newton method for full-batch problems, driven by a closure that
recomputes the loss and its gradient.

Each iteration moves along d = -H g, where H approximates the inverse Hessian from the last history_size
pairs (s, y) = (step taken, change of gradient), applied by the two-loop recursion:

    q = -g;  for i newest..oldest: a_i = rho_i s_i.q;  q -= a_i y_i          (rho_i = 1 / y_i.s_i)
    r = q * (y.s / y.y of the newest pair);  for i oldest..newest: b = rho_i y_i.r;  r += (a_i - b) s_i

A pair is kept only when y.s > 1e-10 (the curvature condition). Without a line search the step length is
lr (the first iteration: min(1, 1 / sum|g|) * lr, as PyTorch). The iteration stops at max_iter, at
max_eval closure calls, when max|g| <= tolerance_grad, or when the step or the loss change falls below
tolerance_change. The whole state (directions, history) is kept between step() calls.
"""

import numpy as np

from ..autograd import versions
from ..autograd.grad_mode import enable_grad
from .optimizer import Optimizer


class LBFGS(Optimizer):
    def __init__(
        self,
        params,
        lr=1,
        max_iter=20,
        max_eval=None,
        tolerance_grad=1e-7,
        tolerance_change=1e-9,
        history_size=100,
        line_search_fn=None,
    ):
        if line_search_fn is not None:
            raise NotImplementedError("LBFGS: line_search_fn='strong_wolfe' is not supported yet; use the default")
        max_eval = max_iter * 5 // 4 if max_eval is None else max_eval
        super().__init__(
            params,
            dict(
                lr=lr,
                max_iter=max_iter,
                max_eval=max_eval,
                tolerance_grad=tolerance_grad,
                tolerance_change=tolerance_change,
                history_size=history_size,
                line_search_fn=line_search_fn,
            ),
        )
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params = self.param_groups[0]["params"]

    def _flat_grad(self):
        parts = [np.zeros(p.array.size, p.dtype) if p.grad is None else p.grad.array.reshape(-1) for p in self._params]
        return np.concatenate(parts)

    def _add_to_params(self, step_size, direction):
        offset = 0
        for p in self._params:
            n = p.array.size
            p.array += (step_size * direction[offset : offset + n]).reshape(p.shape).astype(p.dtype, copy=False)
            versions.mark_written(p.array)
            offset += n

    def step(self, closure):
        """Run up to max_iter iterations; `closure` zeroes the gradients, computes the loss, calls backward
        and returns the loss. Returns the loss from the first closure call."""
        if closure is None:
            raise RuntimeError("LBFGS.step() needs a closure that reevaluates the model and returns the loss")
        group = self.param_groups[0]
        evaluate = enable_grad()(closure)
        state = self.state.setdefault(self._params[0], {"func_evals": 0, "n_iter": 0})
        first_loss = evaluate()
        loss = float(first_loss)
        evaluations = 1
        state["func_evals"] += 1
        flat_grad = self._flat_grad()
        if np.abs(flat_grad).max() <= group["tolerance_grad"]:
            return first_loss
        d, t = state.get("d"), state.get("t")
        old_dirs, old_steps, ro = state.get("old_dirs", []), state.get("old_stps", []), state.get("ro", [])
        h_diag, previous_grad = state.get("H_diag", 1.0), state.get("prev_flat_grad")
        iteration = 0
        while iteration < group["max_iter"]:
            iteration += 1
            state["n_iter"] += 1
            if state["n_iter"] == 1:
                d, old_dirs, old_steps, ro, h_diag = -flat_grad, [], [], [], 1.0
            else:
                y, s = flat_grad - previous_grad, d * t
                ys = float(y @ s)
                if ys > 1e-10:
                    if len(old_dirs) == group["history_size"]:
                        old_dirs.pop(0), old_steps.pop(0), ro.pop(0)
                    old_dirs.append(y), old_steps.append(s), ro.append(1.0 / ys)
                    h_diag = ys / float(y @ y)
                alphas = [0.0] * len(old_dirs)
                q = -flat_grad
                for i in range(len(old_dirs) - 1, -1, -1):
                    alphas[i] = float(old_steps[i] @ q) * ro[i]
                    q = q - alphas[i] * old_dirs[i]
                d = r = q * h_diag
                for i in range(len(old_dirs)):
                    beta = float(old_dirs[i] @ r) * ro[i]
                    r += (alphas[i] - beta) * old_steps[i]
            previous_grad, previous_loss = flat_grad.copy(), loss
            t = min(1.0, 1.0 / np.abs(flat_grad).sum()) * group["lr"] if state["n_iter"] == 1 else group["lr"]
            if float(flat_grad @ d) > -group["tolerance_change"]:  # not a descent direction
                break
            self._add_to_params(t, d)
            converged = False
            if iteration != group["max_iter"]:
                loss = float(evaluate())
                flat_grad = self._flat_grad()
                converged = np.abs(flat_grad).max() <= group["tolerance_grad"]
                evaluations += 1
                state["func_evals"] += 1
            if iteration == group["max_iter"] or evaluations >= group["max_eval"] or converged:
                break
            if (
                np.abs(d * t).max() <= group["tolerance_change"]
                or abs(loss - previous_loss) < group["tolerance_change"]
            ):
                break
        state.update(d=d, t=t, old_dirs=old_dirs, old_stps=old_steps, ro=ro, H_diag=h_diag)
        state.update(prev_flat_grad=previous_grad, prev_loss=previous_loss)
        return first_loss
