"""The operands of a binary op, made ready for its Function: Python numbers and lists become constants,
both sides take PyTorch's result dtype (the rules are in dtypes.py), and a shape mismatch is an error that
names the op and both shapes."""

import numbers

import numpy as np

from . import dtypes
from .autograd import observe as _observe
from .conversion import plain, to_array
from .tensor import Tensor, make_tensor


def as_operand(value, op):
    """A Tensor or a Python number for a binary op; lists and arrays become constant tensors."""
    if isinstance(value, Tensor):
        return value
    if isinstance(value, numbers.Number) and not isinstance(value, complex):
        return value.item() if isinstance(value, np.generic) else value
    if isinstance(value, (np.ndarray, list, tuple)):
        return make_tensor(to_array(value), None)
    raise TypeError(f"{op}: unsupported operand of type {type(value).__name__}; use a tensor or a number")


def promote(left, right, op, floating=False):
    """Cast the operands to PyTorch's result dtype; Python numbers become cached 0-d arrays of it."""
    if isinstance(left, Tensor):  # fast paths: nothing to convert (most calls)
        kind = left.array.dtype.kind
        if isinstance(right, Tensor):
            if left.array.dtype == right.array.dtype and (kind == "f" or not floating):
                return left, right
        elif type(right) is float and kind == "f":
            return left, scalar_array(right, left.array.dtype)
    left, right = as_operand(left, op), as_operand(right, op)
    left_is_tensor, right_is_tensor = isinstance(left, Tensor), isinstance(right, Tensor)
    if left_is_tensor and right_is_tensor:
        dtype = left.array.dtype
        if dtype != right.array.dtype:
            dtype = dtypes.promote_tensors(left.array, right.array)
    elif left_is_tensor:
        dtype = dtypes.promote_with_scalar(left.array.dtype, right)
    else:
        dtype = dtypes.promote_with_scalar(right.array.dtype, left)
    if floating and dtype.kind != "f":
        dtype = dtypes.default_float  # true division of integers gives float32, as in PyTorch
    left = left.to(dtype) if left_is_tensor else scalar_array(left, dtype)
    right = right.to(dtype) if right_is_tensor else scalar_array(right, dtype)
    return left, right


_scalar_arrays = {}


def scalar_array(value, dtype):
    """A Python number as a 0-d array of `dtype`, cached: NumPy computes `array * array0d` faster than
    `array * 1.5`, whose Python float it must convert on every call (docs/benchmarks.md, per-op overhead).
    The cached arrays are read-only (ops never write to their inputs)."""
    key = (type(value), value, dtype)
    array = _scalar_arrays.get(key)
    if array is None:
        if len(_scalar_arrays) > 512:  # bounded: many distinct constants just stop being cached
            _scalar_arrays.clear()
        array = _scalar_arrays[key] = np.array(value, dtype=dtype)
        array.flags.writeable = False
    return array


def binary(function, left, right, op, floating=False):
    """Apply a broadcasting binary op; a shape mismatch names the op and both shapes."""
    left, right = promote(left, right, op, floating)
    try:
        return function.apply(left, right)
    except ValueError as error:
        shapes = np.shape(plain(left)), np.shape(plain(right))
        if not broadcastable(*shapes):
            raise ValueError(
                f"{op}: shapes {shapes[0]} and {shapes[1]} cannot be broadcast together "
                "(trailing dimensions must be equal or 1)"
            ) from None
        raise error


def broadcastable(*shapes):
    try:
        np.broadcast_shapes(*shapes)
        return True
    except ValueError:
        return False


def compare(ufunc, left, right):
    """A comparison or logical op: a bool (or integer) tensor outside the graph."""
    a, b = plain(left), plain(as_operand(right, ufunc.__name__))
    if not broadcastable(np.shape(a), np.shape(b)):
        raise ValueError(f"{ufunc.__name__}: shapes {np.shape(a)} and {np.shape(b)} cannot be broadcast together")
    out = make_tensor(np.asarray(ufunc(a, b)), None)
    if _observe.listeners:  # tm.onnx's tracer records comparisons: masks computed from the inputs
        _observe.note_comparison(ufunc, left, right, out)
    return out


def piecewise_constant(ufunc, left, right, op):
    """An arithmetic op whose result is a step function of its operands (floor division): PyTorch's
    result dtype, outside the graph (PyTorch has no gradient for it either)."""
    left, right = promote(left, right, op)
    a, b = plain(left), plain(right)
    if not broadcastable(np.shape(a), np.shape(b)):
        raise ValueError(f"{op}: shapes {np.shape(a)} and {np.shape(b)} cannot be broadcast together")
    if np.asarray(a).dtype.kind in "iu" and np.any(np.asarray(b) == 0):
        raise ZeroDivisionError(f"{op}: integer division by zero")
    with np.errstate(divide="ignore", invalid="ignore"):  # float x // 0 is inf or nan, silently (PyTorch)
        return make_tensor(np.asarray(ufunc(a, b)), None)
