"""Gradients of a fused op by replaying its definition: create_graph for ops whose backward is a kernel loop.

A GRU over a whole sequence is one node whose backward is a hand-written loop over time. Under
create_graph=True its gradient must itself be made of recorded ops, so the op also carries its definition
written with Tensor ops (`definition`, one cell per time step). `gradients_by_replay` runs that definition
on the op's inputs and differentiates it with create_graph: the same numbers as the kernel's backward (the
tests check both against finite differences), but each step recorded, so they differentiate again.

The replay starts from an Identity node per input and stops there: what comes back is the partial
derivative with respect to each input, as a backward returns, and nothing upstream is visited twice.
"""

from . import engine
from .function import Function
from .grad_mode import enable_grad


class Identity(Function):
    """y = x (a new node). dL/dx = dL/dy."""

    @staticmethod
    def forward(ctx, x):
        return x.view()

    @staticmethod
    def backward(ctx, grad):
        return grad


def gradients_by_replay(ctx, grad, definition, inputs):
    """d <grad, definition(*inputs)> / d input for each input the op's ctx needs, as recorded Tensors."""
    starts = [
        Identity.apply(x) if need and x is not None and getattr(x, "requires_grad", False) else x
        for x, need in zip(inputs, ctx.needs_input_grad)
    ]
    with enable_grad():
        out = definition(*starts)
    capture = {s.grad_fn: None for s, x in zip(starts, inputs) if s is not x}
    if out.grad_fn is not None:
        engine.run_backward([out.grad_fn], [grad], True, capture, create_graph=True, stop_at_capture=True)
    return tuple(capture[s.grad_fn] if s is not x else None for s, x in zip(starts, inputs))
