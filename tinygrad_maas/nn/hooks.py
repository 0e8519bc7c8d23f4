"""Module hooks, as PyTorch's: code that runs around a module's forward and backward, to inspect or
change what flows through it (feature extraction, activation statistics, gradient clipping per layer).

    register_forward_pre_hook(hook)    hook(module, args) before forward; may return new args
    register_forward_hook(hook)        hook(module, args, output) after forward; may return a new output
    register_full_backward_hook(hook)  hook(module, grad_input, grad_output) once the gradients with respect
                                       to the module's tensor inputs are known; may return new grad_input

The backward hook needs to see the gradients at the module's boundary, so its inputs and outputs pass
through a no-copy identity op (a reshape to the same shape): a tensor hook on each output alias collects
grad_output, and a tensor hook on each input alias collects grad_input. Every output's gradient is known
before any input's (the inputs are upstream of the outputs), so the module's hook runs when the last input
gradient arrives, or at the outputs when no input requires grad (grad_input is then all None).
"""

import itertools
from collections import OrderedDict

from ..autograd import grad_mode
from ..ops.shape import Reshape
from ..tensor import Tensor

_ids = itertools.count()


class RemovableHandle:
    """What the register_*_hook methods return: remove() unregisters the hook."""

    def __init__(self, hooks):
        self.hooks_dict, self.id = hooks, next(_ids)

    def remove(self):
        self.hooks_dict.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.remove()


def add(hooks, hook):
    if not callable(hook):
        raise TypeError(f"a hook must be callable, got {type(hook).__name__}")
    handle = RemovableHandle(hooks)
    hooks[handle.id] = hook
    return handle


def new_tables():
    return OrderedDict(), OrderedDict(), OrderedDict()


def call(module, args, kwargs):
    """module(*args, **kwargs) with its hooks."""
    for hook in list(module._forward_pre_hooks.values()):
        result = hook(module, args)
        if result is not None:
            args = result if isinstance(result, tuple) else (result,)
    watch = bool(module._backward_hooks) and grad_mode.is_grad_enabled()
    if watch:
        boundary = _Boundary(module)
        args = boundary.watch_inputs(args)
    output = module.forward(*args, **kwargs)
    for hook in list(module._forward_hooks.values()):
        result = hook(module, args, output)
        if result is not None:
            output = result
    return boundary.watch_outputs(output) if watch else output


def _alias(tensor):
    """The same values as a new node in the graph (no copy), so a hook can sit at this boundary."""
    return Reshape.apply(tensor, shape=tensor.shape)


class _Boundary:
    """One call's inputs and outputs, and the gradients seen at them."""

    def __init__(self, module):
        self.module = module
        self.grad_inputs, self.grad_outputs = [], []
        self.waiting = 0

    def watch_inputs(self, args):
        watched = []
        for position, value in enumerate(args):
            if isinstance(value, Tensor) and value.requires_grad:
                value = _alias(value)
                value.register_hook(self._input_hook(position))
                self.waiting += 1
            watched.append(value)
        self.grad_inputs = [None] * len(args)
        return tuple(watched)

    def watch_outputs(self, output):
        outputs = output if isinstance(output, tuple) else (output,)
        self.grad_outputs = [None] * len(outputs)
        watched = []
        for position, value in enumerate(outputs):
            if isinstance(value, Tensor) and value.requires_grad:
                value = _alias(value)
                value.register_hook(self._output_hook(position))
            watched.append(value)
        return tuple(watched) if isinstance(output, tuple) else watched[0]

    def _output_hook(self, position):
        def collect(grad):
            self.grad_outputs[position] = grad
            if self.waiting == 0:  # nothing upstream requires grad: the module's hook runs here
                self._run_hooks()

        return collect

    def _input_hook(self, position):
        def collect(grad):
            self.grad_inputs[position] = grad
            self.waiting -= 1
            if self.waiting == 0:
                replaced = self._run_hooks()
                if replaced is not None:
                    return replaced[position]
            return None

        return collect

    def _run_hooks(self):
        replaced = None
        tensor_inputs = sum(g is not None for g in self.grad_inputs)
        for hook in list(self.module._backward_hooks.values()):
            result = hook(self.module, tuple(self.grad_inputs), tuple(self.grad_outputs))
            if result is not None:
                if tensor_inputs > 1:
                    raise NotImplementedError(
                        f"{type(self.module).__name__}: a full backward hook may replace grad_input only for a "
                        "module with one input that requires grad"
                    )
                replaced = tuple(result)
                self.grad_inputs = list(replaced)
        return replaced
