"""Watching the engine: the one hook that tm.profile and tm.autograd.trace use.

`listeners` is empty unless something watches, and then Function.apply and the backward engine each check
it once per op (an empty list costs a truth test). A listener is an object with any of:

    on_forward(op_class, seconds, output)          after an op's apply, with its wall time
    on_apply(op_class, inputs, kwargs, output)     after an op's apply, with what it was given (tm.onnx's
                                                   tracer records the forward pass from these)
    on_backward(node, grad, grads, seconds)        after a node's backward: what came in, what went out
    on_comparison(ufunc, left, right, output)      after a comparison or logical op (no gradient, no Function)
    on_unbroadcast(grad_shape, shape, axes)        when a backward sums a gradient down to a broadcast input
    on_engine(seconds)                             after a whole backward: the engine's own time (ordering
                                                   the graph, summing gradients), its nodes' time excluded

Time spent in ops called inside another op (a backward under create_graph builds ops) is the inner op's,
not counted twice: each record carries its self time.
"""

import time

listeners = []
_stack = []  # one [start, time in nested ops] per op being timed


def watching(listener):
    """Add `listener` for the duration of a `with` block."""
    return _Watching(listener)


class _Watching:
    def __init__(self, listener):
        self.listener = listener

    def __enter__(self):
        listeners.append(self.listener)
        return self.listener

    def __exit__(self, *exc_info):
        listeners.remove(self.listener)


def observed_apply(cls, inputs, kwargs):
    """Function.apply while someone watches: the op runs unwatched inside, its time is reported after."""
    watchers = listeners[:]
    listeners.clear()  # the inner apply takes the plain path
    try:
        seconds, output = timed(cls.apply, inputs, kwargs)
    finally:
        listeners[:] = watchers
    for listener in watchers:
        if hasattr(listener, "on_forward"):
            listener.on_forward(cls, seconds, output)
        if hasattr(listener, "on_apply"):
            listener.on_apply(cls, inputs, kwargs, output)
    return output


def observed_backward(node, ctx, grad):
    """node.backward while someone watches."""
    seconds, grads = timed(node.backward, (ctx, grad), {})
    for listener in listeners[:]:
        if hasattr(listener, "on_backward"):
            listener.on_backward(node, grad, grads, seconds)
    return grads


def observed_engine(propagate, arguments):
    """A whole backward pass while someone watches."""
    seconds, result = timed(propagate, arguments, {})
    for listener in listeners[:]:
        if hasattr(listener, "on_engine"):
            listener.on_engine(seconds)
    return result


def note_unbroadcast(grad_shape, shape, axes):
    for listener in listeners[:]:
        if hasattr(listener, "on_unbroadcast"):
            listener.on_unbroadcast(grad_shape, shape, axes)


def timed(function, args, kwargs):
    """(self seconds, result): wall time of the call minus the time of timed calls nested inside it."""
    frame = [time.perf_counter(), 0.0]
    _stack.append(frame)
    try:
        result = function(*args, **kwargs)
    finally:
        _stack.pop()
    total = time.perf_counter() - frame[0]
    if _stack:
        _stack[-1][1] += total
    return total - frame[1], result


def note_comparison(ufunc, left, right, output):
    for listener in listeners[:]:
        if hasattr(listener, "on_comparison"):
            listener.on_comparison(ufunc, left, right, output)
