"""Creating tensors: from data, filled, ranges, random. PyTorch's names, arguments and default dtypes
(float32 for floating values, int64 for integers)."""

import contextlib
import contextvars
import math

import numpy as np

from . import dtypes
from .device import require_cpu
from .ops.arguments import sizes
from .random import generator as generator_of
from .tensor import Tensor, make_tensor


def _new(array, dtype, requires_grad):
    dtype = dtypes.to_dtype(dtype)
    if dtype is not None:
        array = array.astype(dtype, copy=False)
    tensor = make_tensor(array, None)
    return tensor.requires_grad_(True) if requires_grad else tensor


def tensor(data, dtype=None, requires_grad=False):
    """A new tensor holding a copy of `data` (a number, nested list, ndarray or tensor).

    Lists of Python floats give float32, of ints int64, of bools bool; an ndarray keeps its dtype.
    """
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


def from_numpy(array):
    """A tensor sharing memory with `array` (changes to one show in the other); keeps its dtype."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy(): expected an np.ndarray, got {type(array).__name__}")
    dtypes.check_supported(array.dtype, "from_numpy()")
    return make_tensor(array, None)


def zeros(*size, dtype=None, requires_grad=False):
    return _new(np.zeros(sizes(size), dtype=dtypes.default_float), dtype, requires_grad)


def ones(*size, dtype=None, requires_grad=False):
    return _new(np.ones(sizes(size), dtype=dtypes.default_float), dtype, requires_grad)


def full(size, fill_value, dtype=None, requires_grad=False):
    """A tensor of `size` filled with `fill_value`; the dtype follows the value (float32, int64, bool)."""
    fill = fill_value.item() if isinstance(fill_value, Tensor) else fill_value
    dtype = dtype if dtype is not None else dtypes.scalar_dtype(fill)
    return _new(np.full(sizes((size,)), fill, dtype=dtypes.to_dtype(dtype)), None, requires_grad)


def zeros_like(input, dtype=None, requires_grad=False):
    return _new(np.zeros(input.shape, dtype=dtype or input.dtype), None, requires_grad)


def ones_like(input, dtype=None, requires_grad=False):
    return _new(np.ones(input.shape, dtype=dtype or input.dtype), None, requires_grad)


def full_like(input, fill_value, dtype=None, requires_grad=False):
    return _new(np.full(input.shape, fill_value, dtype=dtype or input.dtype), None, requires_grad)


def arange(start, end=None, step=1, dtype=None, requires_grad=False):
    """Values from start (default 0) up to, not including, end. int64 if all arguments are integers."""
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError("arange(): step must be nonzero")
    integral = all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in (start, end, step))
    default = dtypes.int64 if integral else dtypes.default_float
    return _new(
        np.arange(start, end, step, dtype=np.float64 if not integral else np.int64).astype(default),
        dtype,
        requires_grad,
    )


def linspace(start, end, steps, dtype=None, requires_grad=False):
    if steps < 0:
        raise ValueError(f"linspace(): number of steps must be non-negative, got {steps}")
    return _new(np.linspace(start, end, steps).astype(dtypes.default_float), dtype, requires_grad)


def eye(n, m=None, dtype=None, requires_grad=False):
    return _new(np.eye(n, m, dtype=dtypes.default_float), dtype, requires_grad)


def rand(*size, dtype=None, requires_grad=False):
    """Uniform on [0, 1), from the generator seeded by tm.manual_seed."""
    dtype = dtypes.to_dtype(dtype) or dtypes.default_float
    return _new(generator_of().random(sizes(size), dtype=dtype), None, requires_grad)


def randn(*size, dtype=None, requires_grad=False):
    """Standard normal, from the generator seeded by tm.manual_seed."""
    dtype = dtypes.to_dtype(dtype) or dtypes.default_float
    return _new(generator_of().standard_normal(sizes(size), dtype=dtype), None, requires_grad)


def randint(low=0, high=None, size=None, dtype=None):
    """Integers uniform on [low, high): randint(high, size) or randint(low, high, size); int64."""
    if size is None:  # randint(high, size)
        low, high, size = 0, low, high
    elif high is None:  # randint(high, size=...)
        low, high = 0, low
    if high is None or size is None:
        raise TypeError("randint(): give high and size, e.g. randint(10, (3,)) or randint(2, 10, (3,))")
    if high <= low:
        raise ValueError(f"randint(): high ({high}) must be greater than low ({low})")
    return _new(generator_of().integers(low, high, sizes((size,))), dtype, False)


def randperm(n, generator=None, dtype=None, requires_grad=False):
    """A random permutation of 0 .. n-1 (int64), drawn from `generator` or the default one."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"randperm(): n must be a non-negative integer, got {n!r}")
    return _new(generator_of(generator).permutation(int(n)), dtype, requires_grad)


def as_tensor(data, dtype=None, device=None):
    """A tensor sharing memory with `data` when it is a tensor or an ndarray of the wanted dtype (no
    copy, as PyTorch), else a new tensor from it."""
    require_cpu(device or "cpu", "as_tensor")
    if isinstance(data, Tensor):
        return data if dtype is None else data.to(dtype)
    if isinstance(data, np.ndarray) and (dtype is None or dtypes.to_dtype(dtype) == data.dtype):
        return from_numpy(data)
    return tensor(data, dtype=dtype)


def is_tensor(obj):
    return isinstance(obj, Tensor)


def rand_like(input, dtype=None):
    return rand(input.shape, dtype=dtype or input.dtype)


def randn_like(input, dtype=None):
    return randn(input.shape, dtype=dtype or input.dtype)


def parameter_dtype(device, dtype, layer):
    """The dtype of a layer's parameters from PyTorch's factory arguments (device=, dtype=): the CPU only,
    float32 by default."""
    require_cpu("cpu" if device is None else device, layer)
    return dtypes.to_dtype(dtype) or dtypes.default_float


def empty_for_parameters(shape, dtype):
    """Storage for a layer's parameter or buffer before its init fills it (zeros: never uninitialised
    memory). Inside `parameter_budget(n)` at most n elements in all may be made, so a model built from a
    file can be stopped before it allocates more than the file's weights hold."""
    budget = _parameter_budget.get()
    if budget is not None:
        count = math.prod(shape)
        if count > budget[0]:
            raise ValueError(
                f"the layers ask for a parameter of shape {tuple(shape)}, more than the "
                f"{budget[0]} elements left of the weights file's"
            )
        budget[0] -= count
    return np.zeros(shape, dtype=dtype)


_parameter_budget = contextvars.ContextVar("parameter_budget", default=None)


@contextlib.contextmanager
def parameter_budget(elements):
    """Within this block, layers may create at most `elements` parameter elements in all
    (empty_for_parameters raises beyond that)."""
    token = _parameter_budget.set([elements])
    try:
        yield
    finally:
        _parameter_budget.reset(token)
