"""Python data and arrays on their way into tensors: PyTorch's dtype inference for tensor(), and the plain
NumPy value of anything used as a constant operand."""

import numpy as np

from . import dtypes
from .tensor import Tensor


def to_array(data, dtype=None):
    """An ndarray for `data` with PyTorch's dtype inference: Python floats -> float32, ints -> int64,
    bools -> bool; an ndarray keeps its dtype unless `dtype` is given. Always a copy."""
    dtype = dtypes.to_dtype(dtype)
    if isinstance(data, Tensor):
        array = data.array.copy()
    elif isinstance(data, np.ndarray):
        array = data.copy()
    elif isinstance(data, np.generic):
        array = np.asarray(data).copy()
    else:
        try:
            array = np.array(_unwrap_nested(data))
        except ValueError as error:
            raise ValueError(f"tensor(): data must be a number or a regular nested list; {error}") from None
        if array.dtype == np.float64 and dtype is None:
            array = array.astype(dtypes.default_float)
        elif array.dtype.kind in "iu" and dtype is None:
            array = array.astype(np.int64)
        elif array.dtype == object or array.dtype.kind in "USV":
            raise TypeError(f"tensor(): cannot make a tensor from {type(data).__name__} data: {data!r:.80}")
    if dtype is not None:
        array = array.astype(dtype, copy=False)
    dtypes.check_supported(array.dtype, "tensor()")
    return array


def _unwrap_nested(data):
    """Lists may contain 0-d tensors (e.g. [t.sum(), 1.0]); replace them by their values."""
    if isinstance(data, Tensor):
        return data.array
    if isinstance(data, (list, tuple)):
        return [_unwrap_nested(item) for item in data]
    return data


def plain(value):
    """The NumPy value of a Tensor, array or number used as a constant (no gradient flows into it)."""
    if isinstance(value, Tensor):
        return value.array
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        return to_array(value)
    return value
