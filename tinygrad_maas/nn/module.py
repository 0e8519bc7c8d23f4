"""Module and Parameter: PyTorch's way of bundling parameters, buffers and sub-modules into a model.

Assigning a Parameter to a module attribute registers it; assigning a Module registers a child; tensors
that belong to the state but are not trained (BatchNorm's running statistics) are registered with
register_buffer. Everything else (state_dict, train/eval, zero_grad, casting) walks that tree.
"""

from collections import OrderedDict, namedtuple
from collections.abc import Mapping

import numpy as np

from .. import device as _device
from .. import dtypes
from ..autograd.grad_mode import no_grad
from ..tensor import Tensor, init_slots
from . import hooks as _hooks

IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class Parameter(Tensor):
    """A tensor that is a trainable part of a Module: requires grad, and is found by module.parameters().

    Like torch.nn.Parameter, it shares memory with the tensor or array it is made from.
    """

    __slots__ = ()

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            array = np.empty((0,), dtype=dtypes.default_float)
        elif isinstance(data, Tensor):
            array = data.array
        else:
            array = np.asarray(data)
        dtypes.check_supported(array.dtype, "Parameter")
        init_slots(self, array, None)
        if requires_grad:
            self.requires_grad_(True)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()


class Module:
    """Base class of every layer and model. Subclasses set attributes in __init__ and define forward()."""

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent_buffers", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)
        tables = _hooks.new_tables()
        object.__setattr__(self, "_forward_pre_hooks", tables[0])
        object.__setattr__(self, "_forward_hooks", tables[1])
        object.__setattr__(self, "_backward_hooks", tables[2])

    # ------------------------------------------------------------------ registration
    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"cannot assign {name!r} before Module.__init__() has run: call "
                "super().__init__() first in your module's __init__"
            )
        if isinstance(value, Parameter):
            self._forget(name, keep=self._parameters)
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._forget(name, keep=self._modules)
            self._modules[name] = value
        elif name in self._parameters:
            if value is not None:
                raise TypeError(
                    f"cannot assign {type(value).__name__} as parameter {name!r} (nn.Parameter or None expected)"
                )
            self._parameters[name] = None
        elif name in self._buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign {type(value).__name__} as buffer {name!r} (Tensor or None expected)")
            self._buffers[name] = value
        elif name in self._modules:
            if value is not None:
                raise TypeError(
                    f"cannot assign {type(value).__name__} as child module {name!r} (Module or None expected)"
                )
            self._modules[name] = None
        else:
            object.__setattr__(self, name, value)

    def _forget(self, name, keep):
        """Remove `name` from the instance dict and every registry but `keep`, before it is registered anew
        in `keep`: a child replaced by another keeps its place (a Sequential runs its children in order)."""
        self.__dict__.pop(name, None)
        for table in (self._parameters, self._buffers, self._modules):
            if table is not keep:
                table.pop(name, None)

    def __getattr__(self, name):
        # Called only when normal lookup fails: look in the registries.
        for table in ("_parameters", "_buffers", "_modules"):
            entries = self.__dict__.get(table)
            if entries is not None and name in entries:
                return entries[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute {name!r}")

    def __delattr__(self, name):
        for table in (self._parameters, self._buffers, self._modules):
            if name in table:
                del table[name]
                return
        object.__delattr__(self, name)

    def register_parameter(self, name, param):
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"register_parameter(): {name!r} must be an nn.Parameter or None, got {type(param).__name__}"
            )
        self._check_name(name, "register_parameter")
        self._parameters[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        """A tensor that is part of the module's state (and state_dict, unless persistent=False) but is
        not trained: BatchNorm's running mean, for example."""
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"register_buffer(): {name!r} must be a Tensor or None, got {type(tensor).__name__}")
        self._check_name(name, "register_buffer")
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers.discard(name)
        else:
            self._non_persistent_buffers.add(name)

    def add_module(self, name, module):
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module(): {name!r} must be a Module or None, got {type(module).__name__}")
        self._check_name(name, "add_module")
        self._modules[name] = module

    register_module = add_module

    def _check_name(self, name, op):
        if not isinstance(name, str) or not name or "." in name:
            raise KeyError(f"{op}(): name must be a non-empty string without '.', got {name!r}")
        if name in self.__dict__:
            raise KeyError(f"{op}(): attribute {name!r} already exists")

    # ------------------------------------------------------------------ calling
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} has no forward(); define forward() in your Module")

    _tensor_layer = False  # a layer of nn/ whose first argument must be a tensor (see __init_subclass__)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._tensor_layer = cls.__module__.startswith("tinygrad_maas.nn.")

    def __call__(self, *args, **kwargs):
        if self._tensor_layer and args and type(args[0]) is list:
            raise TypeError(
                f"{type(self).__name__}: the input must be a tensor, got a Python list; make one with "
                "tm.tensor(your_list) (a list of samples: tm.stack(list_of_tensors))"
            )
        if self._forward_pre_hooks or self._forward_hooks or self._backward_hooks:
            return _hooks.call(self, args, kwargs)
        return self.forward(*args, **kwargs)

    def register_forward_pre_hook(self, hook):
        """hook(module, args) runs before forward; a returned value replaces args (nn/hooks.py)."""
        return _hooks.add(self._forward_pre_hooks, hook)

    def register_forward_hook(self, hook):
        """hook(module, args, output) runs after forward; a returned value replaces the output."""
        return _hooks.add(self._forward_hooks, hook)

    def register_full_backward_hook(self, hook):
        """hook(module, grad_input, grad_output) runs when the gradients of the module's inputs are known;
        a returned tuple replaces grad_input."""
        return _hooks.add(self._backward_hooks, hook)

    # ------------------------------------------------------------------ walking the tree
    def named_modules(self, prefix="", memo=None):
        """(name, module) for this module and every module below it, each once, depth first."""
        memo = set() if memo is None else memo
        if id(self) in memo:
            return
        memo.add(id(self))
        yield prefix, self
        for name, module in self._modules.items():
            if module is not None:
                yield from module.named_modules(prefix + ("." if prefix else "") + name, memo)

    def modules(self):
        for _, module in self.named_modules():
            yield module

    def named_children(self):
        seen = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self):
        for _, module in self.named_children():
            yield module

    def _named_members(self, table, prefix, recurse):
        seen = set()
        modules = self.named_modules(prefix) if recurse else [(prefix, self)]
        for module_prefix, module in modules:
            for name, value in getattr(module, table).items():
                if value is None or id(value) in seen:
                    continue
                seen.add(id(value))  # a parameter shared by two layers is listed once, as in PyTorch
                yield module_prefix + ("." if module_prefix else "") + name, value

    def named_parameters(self, prefix="", recurse=True):
        yield from self._named_members("_parameters", prefix, recurse)

    def parameters(self, recurse=True):
        for _, parameter in self.named_parameters(recurse=recurse):
            yield parameter

    def named_buffers(self, prefix="", recurse=True):
        yield from self._named_members("_buffers", prefix, recurse)

    def buffers(self, recurse=True):
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    def apply(self, fn):
        """Call fn on every sub-module (children first) and on this module; returns self."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # ------------------------------------------------------------------ modes and gradients
    def train(self, mode=True):
        if not isinstance(mode, bool):
            raise ValueError(f"train(): mode must be a bool, got {mode!r}")
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self):
        return self.train(False)

    def zero_grad(self, set_to_none=True):
        """Clear every parameter's .grad (to None by default, as PyTorch 2 does; else to zeros)."""
        from ..autograd.grads import zero_grads

        zero_grads(self.parameters(), set_to_none)

    def requires_grad_(self, requires_grad=True):
        for parameter in self.parameters():
            parameter.requires_grad_(requires_grad)
        return self

    # ------------------------------------------------------------------ dtype
    def to(self, *args, dtype=None, device=None, non_blocking=False):
        """PyTorch's Module.to(): to(device), to(dtype), to(device, dtype), keywords too; the device must be
        the CPU. Casts every floating parameter and buffer to `dtype` in place (the module keeps its
        Parameter objects, so an optimizer built earlier still holds them)."""
        dtype = _device.to_arguments(args, dtype, device, "Module.to")
        if dtype is None:
            return self
        dtype = dtypes.to_dtype(dtype)
        if not dtypes.is_floating(dtype):
            raise TypeError(f"to(): modules can only be cast to floating dtypes, got {dtype}")
        with no_grad():
            for tensor in list(self.parameters()) + list(self.buffers()):
                if tensor.dtype.kind == "f":
                    tensor.array = tensor.array.astype(dtype)
                    if tensor.grad is not None:
                        tensor.grad.array = tensor.grad.array.astype(dtype)
        return self

    def float(self):
        return self.to(dtypes.float32)

    def double(self):
        return self.to(dtypes.float64)

    # ------------------------------------------------------------------ state
    def state_dict(self, prefix="", keep_vars=False):
        """An ordered dict of every parameter and persistent buffer by dotted name ("0.weight", ...).
        Values are tensors sharing memory with the module (detached unless keep_vars). A module held
        under two names is listed under both, as in PyTorch (so tied modules' state_dicts load)."""
        state = OrderedDict()
        for name, value in self._state_items(prefix.rstrip(".")):
            state[name] = value if keep_vars else value.detach()
        return state

    def _state_items(self, prefix):
        dot = "." if prefix else ""
        for name, parameter in self._parameters.items():
            if parameter is not None:
                yield prefix + dot + name, parameter
        for name, buffer in self._buffers.items():
            if buffer is not None and name not in self._non_persistent_buffers:
                yield prefix + dot + name, buffer
        for name, module in self._modules.items():
            if module is not None:
                yield from module._state_items(prefix + dot + name)

    def load_state_dict(self, state_dict, strict=True):
        """Copy values from state_dict (tensors or arrays by dotted name) into this module's parameters and
        buffers. strict=True raises a RuntimeError listing every missing, unexpected and mis-shaped key;
        strict=False loads what matches and returns (missing_keys, unexpected_keys). A shape mismatch is an
        error either way, as in PyTorch."""
        if not isinstance(state_dict, Mapping):
            hint = " (pass module.state_dict())" if isinstance(state_dict, Module) else ""
            raise TypeError(
                f"load_state_dict() expects a dict of dotted names to tensors, as state_dict() returns, got "
                f"{type(state_dict).__name__}{hint}"
            )
        own = self.state_dict(keep_vars=True)
        missing = [key for key in own if key not in state_dict]
        unexpected = [key for key in state_dict if key not in own]
        mismatched = []
        for key, target in own.items():
            if key in state_dict:
                value = state_dict[key]
                shape = tuple(value.shape) if hasattr(value, "shape") else np.shape(value)
                if shape != target.shape:
                    mismatched.append(f"{key}: checkpoint has shape {shape}, this module has {target.shape}")
        problems = []
        if mismatched:
            problems.append("size mismatch for " + "; ".join(mismatched))
        if strict and missing:
            problems.append("missing keys: " + ", ".join(missing))
        if strict and unexpected:
            problems.append("unexpected keys: " + ", ".join(unexpected))
        if problems:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}: " + ". ".join(problems))
        with no_grad():
            for key, target in own.items():
                if key in state_dict:
                    value = state_dict[key]
                    target.copy_(value.array if isinstance(value, Tensor) else np.asarray(value))
        return IncompatibleKeys(missing, unexpected)

    # ------------------------------------------------------------------ printing
    def extra_repr(self):
        """The text inside the parentheses of this module's line, e.g. 'in_features=2, out_features=3'."""
        return ""

    def __repr__(self):
        children = [f"({name}): " + repr(module).replace("\n", "\n  ") for name, module in self._modules.items()]
        extra = self.extra_repr()
        if not children:
            return f"{type(self).__name__}({extra})"
        lines = ([extra] if extra else []) + children
        return f"{type(self).__name__}(\n  " + "\n  ".join(lines) + "\n)"

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self._parameters) | set(self._buffers) | set(self._modules))
