"""NumPy's ufuncs on Tensors: `np.cos(t)` is `t.cos()`, `np.multiply(array, t)` is `array * t`.

NumPy hands any ufunc call with a Tensor operand to `Tensor.__array_ufunc__` (NumPy's protocol for array-like
types, NEP 13), which lands here. Each ufunc we know becomes the Tensor method of the same meaning, so the
result is a Tensor in the graph. That is what lets an op write its backward once in NumPy (`grad * np.cos(x)`)
and run it on arrays (first-order, fast) and on Tensors (create_graph=True, recorded). A ufunc we do not
know, or a call with `out=` (which would write into an array behind the graph's back), returns
NotImplemented, and NumPy raises a TypeError naming the ufunc.
"""

import numpy as np

_BINARY = {  # ufunc -> the Tensor operator method, and its reflected form for `array <op> tensor`
    np.add: ("__add__", "__radd__"),
    np.subtract: ("__sub__", "__rsub__"),
    np.multiply: ("__mul__", "__rmul__"),
    np.true_divide: ("__truediv__", "__rtruediv__"),
    np.power: ("__pow__", "__rpow__"),
    np.matmul: ("__matmul__", "__rmatmul__"),
    np.maximum: ("maximum", "maximum"),
    np.remainder: ("__mod__", "__rmod__"),
    np.floor_divide: ("__floordiv__", "__rfloordiv__"),
    np.minimum: ("minimum", "minimum"),
    np.equal: ("__eq__", "__eq__"),
    np.not_equal: ("__ne__", "__ne__"),
    np.less: ("__lt__", "__gt__"),
    np.less_equal: ("__le__", "__ge__"),
    np.greater: ("__gt__", "__lt__"),
    np.greater_equal: ("__ge__", "__le__"),
}

_UNARY = {
    np.negative: "__neg__",
    np.positive: "__pos__",
    np.exp: "exp",
    np.log: "log",
    np.log1p: "log1p",
    np.expm1: "expm1",
    np.floor: "floor",
    np.ceil: "ceil",
    np.sqrt: "sqrt",
    np.absolute: "abs",
    np.sin: "sin",
    np.cos: "cos",
    np.tanh: "tanh",
    np.square: "square",
    np.reciprocal: "reciprocal",
    np.sign: "sign",
    np.isnan: "isnan",
    np.isfinite: "isfinite",
}


def array_ufunc(ufunc, method, *operands, **kwargs):
    """Tensor.__array_ufunc__: run `ufunc(*operands)` as Tensor methods, or NotImplemented."""
    from .tensor import Tensor

    if method != "__call__" or kwargs:
        return NotImplemented
    if ufunc in _UNARY and len(operands) == 1:
        return getattr(operands[0], _UNARY[ufunc])()
    if ufunc in _BINARY and len(operands) == 2:
        a, b = operands
        name, reflected = _BINARY[ufunc]
        return getattr(a, name)(b) if isinstance(a, Tensor) else getattr(b, reflected)(a)
    return NotImplemented
