"""Data types and PyTorch's type promotion.

Tensors hold NumPy arrays of float32 (the default), float64, float16, int64 (indices, labels), the other
integer types, or bool (masks, comparison results). Only floating tensors can require grad.

Promotion follows PyTorch, which differs from NumPy in two places:
  - categories first: bool < integer < floating. An integer tensor combined with a float32 tensor gives
    float32 (NumPy gives float64), and with a Python float gives the default float32.
  - within a category, a tensor with dimensions outranks a 0-d tensor, which outranks a Python number:
    ones(3) (float32) + tensor(1.0, dtype=float64) is float32.
"""

import numpy as np

float16 = np.dtype(np.float16)
float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
uint8 = np.dtype(np.uint8)
int8 = np.dtype(np.int8)
int16 = np.dtype(np.int16)
int32 = np.dtype(np.int32)
int64 = np.dtype(np.int64)
bool_ = np.dtype(np.bool_)

# PyTorch's other names; the package exports them as tm.float, tm.double, tm.long, tm.bool, ...
ALIASES = {
    "half": float16,
    "float": float32,
    "double": float64,
    "short": int16,
    "int": int32,
    "long": int64,
    "bool": bool_,
}

default_float = float32

_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2}
_SUPPORTED = frozenset([float16, float32, float64, uint8, int8, int16, int32, int64, bool_])
# Python's own types as dtype arguments mean what they mean in PyTorch.
_PYTHON_TYPES = {float: float32, int: int64, bool: bool_}


def category(dtype):
    """0 for bool, 1 for integers, 2 for floating types."""
    return _CATEGORY[dtype.kind]


def is_floating(dtype):
    return dtype.kind == "f"


def check_supported(dtype, where="tensor"):
    """Raise a TypeError naming the dtype if tensors cannot hold it (complex, strings, objects...)."""
    if dtype not in _SUPPORTED:
        raise TypeError(
            f"{where}: unsupported dtype {dtype}; tinygrad_maas tensors hold float16/32/64, "
            "integers (int8..int64, uint8) or bool"
        )
    return dtype


def to_dtype(dtype):
    """Accept tm.float32, np.float32, 'float32', Python float/int/bool; return a NumPy dtype."""
    if dtype is None:
        return None
    if dtype in _PYTHON_TYPES:
        return _PYTHON_TYPES[dtype]
    try:
        resolved = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"not a dtype: {dtype!r} (use tm.float32, tm.float64, tm.int64, tm.bool, ...)") from None
    return check_supported(resolved, "dtype")


_LEGACY_NAMES = {
    float16: "HalfTensor",
    float32: "FloatTensor",
    float64: "DoubleTensor",
    uint8: "ByteTensor",
    int8: "CharTensor",
    int16: "ShortTensor",
    int32: "IntTensor",
    int64: "LongTensor",
    bool_: "BoolTensor",
}


def legacy_name(dtype):
    """PyTorch's legacy type name of a dtype: float32 -> "FloatTensor" (what tensor.type() returns)."""
    return _LEGACY_NAMES[np.dtype(dtype)]


def from_legacy_name(name):
    """The dtype of "torch.FloatTensor", "tm.LongTensor", "FloatTensor" (tensor.type(name)); other strings
    are read as dtype names ("float64")."""
    short = name.rsplit(".", 1)[-1]
    for dtype, legacy in _LEGACY_NAMES.items():
        if legacy == short:
            return dtype
    return to_dtype(name)


def scalar_dtype(value):
    """The dtype PyTorch gives a Python number when it decides the result type: bool, int64 or float32."""
    if isinstance(value, (bool, np.bool_)):
        return bool_
    if isinstance(value, (int, np.integer)):
        return int64
    return default_float


def promote_tensors(a, b):
    """The result dtype of an op on two tensors' arrays `a` and `b` (PyTorch's rules, see module doc)."""
    category_a, category_b = category(a.dtype), category(b.dtype)
    if category_a != category_b:
        return a.dtype if category_a > category_b else b.dtype
    if (a.ndim == 0) != (b.ndim == 0):  # a dimensioned tensor outranks a 0-d one of its category
        return b.dtype if a.ndim == 0 else a.dtype
    return np.promote_types(a.dtype, b.dtype)


def promote_with_scalar(dtype, value):
    """The result dtype of an op on a tensor of `dtype` and a Python number `value`."""
    value_dtype = scalar_dtype(value)
    return value_dtype if category(value_dtype) > category(dtype) else dtype
