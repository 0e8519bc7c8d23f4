"""Hooks on a tensor's gradient: register_hook(f) calls f(grad) when the gradient is computed (a returned
tensor replaces it); retain_grad() keeps .grad on a non-leaf tensor. A leaf keeps its hooks on itself
(its AccumulateGrad node runs them); a computed tensor keeps them on the node that made it."""

import weakref

import numpy as np


class HookHandle:
    """What register_hook returns: remove() unregisters the hook."""

    def __init__(self, hooks, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self):
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


class LeafHooks(list):
    """A leaf's hooks: the list itself holds those that see the gradient before it is accumulated
    (register_hook); `post` those called with the leaf once its .grad holds the sum
    (register_post_accumulate_grad_hook, what DistributedDataParallel starts its all-reduces from)."""

    def __init__(self):
        super().__init__()
        self.post = []


def _leaf_hooks(tensor):
    if tensor._hooks is None:
        tensor._hooks = LeafHooks()
    return tensor._hooks


def register_hook(tensor, hook):
    if not tensor.requires_grad:
        raise RuntimeError("cannot register a hook on a tensor that does not require grad")
    if tensor.grad_fn is None:
        hooks = _leaf_hooks(tensor)
    else:
        if tensor.grad_fn.pre_hooks is None:
            tensor.grad_fn.pre_hooks = []
        hooks = tensor.grad_fn.pre_hooks
    hooks.append(hook)
    return HookHandle(hooks, hook)


def register_post_accumulate_grad_hook(tensor, hook):
    """Call hook(tensor) each time a backward has added into this leaf's .grad."""
    if not tensor.requires_grad or tensor.grad_fn is not None:
        raise RuntimeError("post-accumulate-grad hooks can only be registered on leaf tensors that require grad")
    hooks = _leaf_hooks(tensor).post
    hooks.append(hook)
    return HookHandle(hooks, hook)


def retain_grad(tensor):
    """Keep .grad on a non-leaf tensor after backward (leaves always keep it)."""
    from ..tensor import make_tensor

    if tensor.grad_fn is None:
        return
    this = weakref.ref(tensor)  # the hook must not keep the tensor alive

    def store(grad):
        kept = this()
        if kept is not None:
            # A copy: the engine's gradient arrays may be read-only broadcast views or shared.
            kept.grad = make_tensor(np.array(grad.array) if kept.grad is None else kept.grad.array + grad.array, None)

    register_hook(tensor, store)
