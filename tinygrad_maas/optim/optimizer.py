"""Optimizer: parameter groups, per-parameter state created lazily, zero_grad, state_dict. As PyTorch's."""

import copy

import numpy as np

from ..autograd import versions
from ..autograd.grads import zero_grads
from ..tensor import Tensor


def hyperparameters(arguments, **overrides):
    """An optimizer's defaults: the arguments its constructor was called with (pass locals()), but the
    parameters themselves, with `overrides` replacing some (e.g. betas as a tuple)."""
    skipped = ("self", "params", "__class__")
    return {**{name: value for name, value in arguments.items() if name not in skipped}, **overrides}


class Optimizer:
    """Base of every optimizer. Subclasses implement _update(param, grad, state, group) on arrays.

    params is an iterable of tensors, or of dicts (parameter groups) each with a "params" entry and its
    own hyper-parameters; missing ones come from `defaults`.
    """

    def __init__(self, params, defaults):
        self.defaults = dict(defaults)
        self.state = {}  # parameter -> dict of arrays and step counts
        self.param_groups = []
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, group):
        group = dict(group)
        params = group["params"]
        group["params"] = [params] if isinstance(params, Tensor) else list(params)
        for param in group["params"]:
            if not isinstance(param, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, got {type(param).__name__}")
            if not param.requires_grad:
                raise ValueError("optimizer got a tensor that does not require grad (it would never change)")
        for existing in self.param_groups:
            if set(map(id, existing["params"])) & set(map(id, group["params"])):
                raise ValueError("some parameters appear in more than one parameter group")
        for name, value in self.defaults.items():
            group.setdefault(name, value)
        self._validate(group)
        self.param_groups.append(group)

    def _validate(self, group):
        """Subclasses check their hyper-parameters here and raise ValueError with the bad value."""

    def zero_grad(self, set_to_none=True):
        zero_grads((p for group in self.param_groups for p in group["params"]), set_to_none)

    def step(self, closure=None):
        """Update every parameter that has a gradient. closure (optional) recomputes and returns the loss."""
        loss = closure() if closure is not None else None
        for group in self.param_groups:
            for param in group["params"]:
                if param.grad is None:
                    continue
                grad = param.grad.array
                if grad.shape != param.array.shape:
                    raise RuntimeError(f"gradient of shape {grad.shape} for a parameter of shape {param.array.shape}")
                state = self.state.setdefault(param, {})
                self._update(param.array, -grad if group.get("maximize") else grad, state, group)
                versions.mark_written(param.array)  # a graph that saved this parameter is now stale
        return loss

    def _update(self, param, grad, state, group):
        raise NotImplementedError

    def state_dict(self):
        """{"state": {index: {...}}, "param_groups": [{..., "params": [indices]}]}: parameters by position,
        as PyTorch does, so it loads into a new optimizer over the same model."""
        index = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            packed["params"] = []
            for param in group["params"]:
                index.setdefault(id(param), len(index))
                packed["params"].append(index[id(param)])
            groups.append(packed)
        state = {index[id(param)]: copy.deepcopy(values) for param, values in self.state.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups) or any(
            len(saved["params"]) != len(own["params"]) for saved, own in zip(groups, self.param_groups)
        ):
            raise ValueError(
                "loaded state dict has a different number of parameter groups or parameters than this optimizer"
            )
        params = [param for group in self.param_groups for param in group["params"]]
        by_index = {}
        for saved, own in zip(groups, self.param_groups):
            for index, param in zip(saved["params"], own["params"]):
                by_index[index] = param
            own.update({k: v for k, v in saved.items() if k != "params"})
        self.state = {}
        for index, values in state_dict["state"].items():
            param = by_index[int(index)]
            restored = {}
            for name, value in values.items():
                if isinstance(value, Tensor):  # as tm.load returns them
                    value = value.array
                if isinstance(value, np.ndarray) and value.shape != param.array.shape and value.ndim:
                    raise ValueError(
                        f"optimizer state {name!r} has shape {value.shape} but its parameter has "
                        f"shape {param.array.shape}"
                    )
                restored[name] = np.array(value, copy=True) if isinstance(value, np.ndarray) else value
            self.state[param] = restored
        del params

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in sorted(group.items()) if k != "params"]
        return "\n".join(lines + [")"])


def check_non_negative(**values):
    for name, value in values.items():
        if not value >= 0.0:
            raise ValueError(f"Invalid {name.replace('_', ' ')}: {value}")
