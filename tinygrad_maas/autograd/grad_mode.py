"""Grad mode: whether new operations are recorded in the autograd graph.

`no_grad()` and `enable_grad()` work as context managers and as decorators, like PyTorch's. The flag is
thread-local (a server thread running inference under `no_grad` must not switch off recording in a
training thread).
"""

import functools
import threading


class _GradState(threading.local):
    enabled = True


_state = _GradState()


def is_grad_enabled():
    """True when operations on tensors that require grad are recorded for backward."""
    return _state.enabled


class set_grad_enabled:
    """Switch recording on or off: `tm.set_grad_enabled(False)` as a call, or `with set_grad_enabled(flag):`."""

    def __init__(self, mode):
        self.previous = _state.enabled
        self.mode = bool(mode)
        _state.enabled = self.mode

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        _state.enabled = self.previous
        return False


class _GradModeContext:
    """Base of `no_grad` / `enable_grad`: sets the flag on enter, restores it on exit, wraps functions."""

    mode = True

    def __init__(self):
        self._previous = []  # a stack, so one instance can be entered re-entrantly

    def __enter__(self):
        self._previous.append(_state.enabled)
        _state.enabled = self.mode
        return self

    def __exit__(self, *exc_info):
        _state.enabled = self._previous.pop()
        return False

    def __call__(self, function):
        mode = self.mode

        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            previous = _state.enabled
            _state.enabled = mode
            try:
                return function(*args, **kwargs)
            finally:
                _state.enabled = previous

        return wrapper


class no_grad(_GradModeContext):
    """Nothing computed inside is recorded: outputs have `requires_grad=False` and no `grad_fn`.

    Use it for inference and for hand-written optimizer steps (`with tm.no_grad(): p -= lr * p.grad`).
    """

    mode = False


class enable_grad(_GradModeContext):
    """Turn recording back on inside a `no_grad` block or function."""

    mode = True


class inference_mode(_GradModeContext):
    """PyTorch's inference_mode: no_grad for inference (`with tm.inference_mode():`, or as a decorator
    with or without parentheses). `inference_mode(False)` records as usual. Tensors made inside can be
    used in a graph later here (PyTorch forbids that; nothing here needs it forbidden)."""

    def __new__(cls, mode=True):
        if callable(mode):  # @tm.inference_mode without parentheses
            return cls()(mode)
        return super().__new__(cls)

    def __init__(self, mode=True):
        super().__init__()
        self.mode = not mode
