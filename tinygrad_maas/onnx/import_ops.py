"""ONNX operators run with our tensor ops: one handler per operator type (the layers are in import_layers.py).

A handler gets a Call (its inputs as Tensors, None for an omitted optional input; its attributes by name;
the model's opset) and returns a Tensor, or a tuple for several outputs. Everything goes through Tensor
methods and ops, so gradients flow through an imported graph as through a model written here. Integer
tensors (shapes, indices) are computed the same way and hold concrete values, as the graph runs eagerly.
"""

import numpy as np

from ..nn import functional as F
from ..ops.binary import Maximum, Minimum
from ..ops.einsum import einsum
from ..ops.indexing import where
from ..ops.join import cat
from ..ops.unary import Erf
from ..tensor import Tensor
from .graph import dtype_of_code


class OnnxRuntimeError(ValueError):
    """A node cannot run: the message names the node, its operator and the reason."""


class Call:
    __slots__ = ("op_type", "name", "inputs", "attributes", "opset", "outputs")

    def __init__(self, op_type, name, inputs, attributes, opset, outputs):
        self.op_type, self.name, self.inputs, self.attributes = op_type, name, inputs, attributes
        self.opset, self.outputs = opset, outputs  # outputs: how many the node declares

    def attr(self, key, default=None):
        return self.attributes.get(key, default)

    def input(self, i):
        return self.inputs[i] if i < len(self.inputs) else None

    def ints(self, i):
        """An integer input (a shape, axes, pads) as a Python list, or None when omitted."""
        value = self.input(i)
        return None if value is None else [int(v) for v in np.asarray(value.array).reshape(-1)]

    def fail(self, reason):
        raise OnnxRuntimeError(f"ONNX node {self.name!r} ({self.op_type}): {reason}")


def _tensor(array):
    return Tensor(np.asarray(array))


def _same_dtype(a, b):
    """ONNX requires equal types for arithmetic; a graph from PyTorch may still mix 0-d constants."""
    if a.dtype != b.dtype and a.dtype.kind == "f" and b.ndim == 0:
        return a, b.to(a.dtype)
    return a, b


def _arithmetic(operation):
    def handler(node):
        a, b = _same_dtype(*node.inputs[:2])
        if a.dtype.kind in "iu" and operation == "div":  # ONNX integer Div truncates
            return _tensor(np.trunc(a.array / b.array).astype(a.dtype))
        return {"add": a.__add__, "sub": a.__sub__, "mul": a.__mul__, "div": a.__truediv__, "pow": a.__pow__}[
            operation
        ](b)

    return handler


def _variadic(combine):
    def handler(node):
        result = node.inputs[0]
        for other in node.inputs[1:]:
            result = combine(result, other)
        return result

    return handler


def _mod(node):
    a, b = node.inputs[:2]
    if node.attr("fmod", 0):  # C's fmod: the sign of the dividend, a - trunc(a / b) * b
        quotient = a / b
        return a - where(quotient < 0, quotient.ceil(), quotient.floor()) * b
    return a % b


def _method(name, **fixed):
    return lambda node: getattr(node.inputs[0], name)(**fixed)


def _clip(node):
    x, low, high = node.input(0), node.input(1), node.input(2)
    low = node.attr("min") if low is None and node.opset < 11 else low
    high = node.attr("max") if high is None and node.opset < 11 else high
    return x.clamp(min=None if low is None else _scalar(low), max=None if high is None else _scalar(high))


def _scalar(value):
    return value.item() if isinstance(value, Tensor) else value


def _cast(node):
    return node.inputs[0].to(dtype_of_code(node.attr("to"), f"Cast node {node.name!r}"))


def _reshape(node):
    x, shape = node.inputs[0], node.ints(1)
    if not node.attr("allowzero", 0):
        shape = [x.shape[i] if n == 0 else n for i, n in enumerate(shape)]
    return x.reshape(shape)


def _flatten(node):
    x = node.inputs[0]
    axis = node.attr("axis", 1) % max(x.ndim, 1) if node.attr("axis", 1) < 0 else node.attr("axis", 1)
    return x.reshape(int(np.prod(x.shape[:axis], dtype=np.int64)), -1)


def _transpose(node):
    x = node.inputs[0]
    perm = node.attr("perm") or list(range(x.ndim))[::-1]
    return x.permute(*perm)


def _axes(node, index=1):
    """Axes from the input (opset 13+ for Squeeze/Unsqueeze/ReduceSum, 18+ for the other reductions) or the
    attribute (earlier)."""
    axes = node.ints(index)
    return node.attr("axes") if axes is None else axes


def _squeeze(node):
    x, axes = node.inputs[0], _axes(node)
    if axes is None:
        axes = [i for i, n in enumerate(x.shape) if n == 1]
    axes = sorted(a % x.ndim for a in axes)
    return x.reshape([n for i, n in enumerate(x.shape) if i not in axes])


def _unsqueeze(node):
    x, axes = node.inputs[0], _axes(node)
    rank = x.ndim + len(axes)
    shape = list(x.shape)
    for axis in sorted(a % rank for a in axes):
        shape.insert(axis, 1)
    return x.reshape(shape)


def _concat(node):
    tensors = [t for t in node.inputs if t is not None]
    return cat(tensors, dim=node.attr("axis"))


def _split(node):
    x, axis = node.inputs[0], node.attr("axis", 0)
    sizes = node.ints(1) or node.attr("split")
    if sizes is None:
        count = node.attr("num_outputs") or node.outputs
        size = -(-x.shape[axis] // count)
        sizes = [min(size, x.shape[axis] - i * size) for i in range(count)]
    pieces, start = [], 0
    for size in sizes:
        pieces.append(x.narrow(axis, start, size))
        start += size
    return tuple(pieces)


def _slice(node):
    x = node.inputs[0]
    starts, ends = node.ints(1), node.ints(2)
    axes = node.ints(3) or list(range(len(starts)))
    steps = node.ints(4) or [1] * len(starts)
    key = [slice(None)] * x.ndim
    for start, end, axis, step in zip(starts, ends, axes, steps):
        key[axis % x.ndim] = slice(start, end, step)
    return x[tuple(key)]


def _gather(node):
    x, indices = node.inputs[:2]
    axis = node.attr("axis", 0) % x.ndim
    index = indices.array
    if index.ndim == 0:
        return x[(slice(None),) * axis + (int(index),)]
    return x[(slice(None),) * axis + (indices,)]


def _gather_elements(node):
    return node.inputs[0].gather(node.attr("axis", 0), node.inputs[1])


def _shape(node):
    shape = node.inputs[0].shape
    start, end = node.attr("start", 0), node.attr("end", len(shape))
    return _tensor(np.asarray(shape[start:end], dtype=np.int64))


def _constant(node):
    for key in ("value", "value_float", "value_int", "value_floats", "value_ints"):
        if key in node.attributes:
            value = node.attributes[key]
            dtype = np.float32 if "float" in key else (np.int64 if "int" in key else None)
            return _tensor(np.asarray(value, dtype=dtype))
    node.fail("only numeric constants (value, value_float(s), value_int(s)) are supported")


def _constant_of_shape(node):
    value = node.attr("value", np.zeros(1, dtype=np.float32))
    return _tensor(np.full(node.ints(0), np.asarray(value).reshape(-1)[0], dtype=np.asarray(value).dtype))


def _range(node):
    start, limit, delta = (t.array for t in node.inputs[:3])
    return _tensor(np.arange(start, limit, delta, dtype=start.dtype))


def _expand(node):
    x, shape = node.inputs[0], node.ints(1)
    target = np.broadcast_shapes(x.shape, tuple(shape))
    return x.expand(*target)


def _tile(node):
    return node.inputs[0].repeat(*node.ints(1))


def _where(node):
    condition, a, b = node.inputs[:3]
    return where(condition, a, b)


def _compare(operation):
    def handler(node):
        a, b = node.inputs[:2]
        return _tensor(operation(a.array, b.array))

    return handler


def _softmax(kind):
    def handler(node):
        x = node.inputs[0]
        axis = node.attr("axis", -1 if node.opset >= 13 else 1)
        return getattr(x, kind)(axis)

    return handler


def _reduce(method):
    def handler(node):
        x = node.inputs[0]
        index_opset = 13 if node.op_type == "ReduceSum" else 18
        axes = node.ints(1) if node.opset >= index_opset else node.attr("axes")
        keepdim = bool(node.attr("keepdims", 1))
        if not axes:
            if node.attr("noop_with_empty_axes", 0):
                return x
            axes = list(range(x.ndim))
        dims = tuple(a % x.ndim for a in axes)
        if method == "logsumexp":
            return x.logsumexp(dims, keepdim=keepdim)
        if method == "prod":
            for axis in sorted(dims, reverse=True):
                x = x.prod(axis, keepdim=keepdim)
            return x
        return getattr(x, method)(dims, keepdim=keepdim)

    return handler


def _pad(node):
    x = node.inputs[0]
    mode = node.attr("mode", b"constant")
    mode = mode.decode() if isinstance(mode, bytes) else mode
    if mode != "constant":
        node.fail(f"only mode 'constant' is supported, got {mode!r}")
    pads = node.ints(1)
    axes = node.ints(3) or list(range(x.ndim))
    value = node.input(2)
    widths = [[0, 0] for _ in range(x.ndim)]
    for i, axis in enumerate(axes):
        widths[axis % x.ndim] = [pads[i], pads[i + len(axes)]]
    flat = [w for pair in reversed(widths) for w in pair]  # F.pad: last dim first
    return F.pad(x, flat, value=0.0 if value is None else _scalar(value))


def _einsum(node):
    equation = node.attr("equation")
    return einsum(equation.decode() if isinstance(equation, bytes) else equation, *node.inputs)


def _cumsum(node):
    if node.attr("exclusive", 0) or node.attr("reverse", 0):
        node.fail("CumSum with exclusive or reverse is not supported")
    return node.inputs[0].cumsum(int(node.inputs[1].item()))


def _identity(node):
    return node.inputs[0]


def _dropout(node):
    x = node.inputs[0]  # inference: the identity; the mask output, when asked for, is all True
    return x, _tensor(np.ones(x.shape, dtype=bool))


def _gelu(node):
    approximate = node.attr("approximate", b"none")
    return F.gelu(node.inputs[0], approximate=approximate.decode() if isinstance(approximate, bytes) else approximate)


def _hard_sigmoid(node):
    x = node.inputs[0]
    return (x * node.attr("alpha", 0.2) + node.attr("beta", 0.5)).clamp(0.0, 1.0)


HANDLERS = {
    "Add": _arithmetic("add"),
    "Sub": _arithmetic("sub"),
    "Mul": _arithmetic("mul"),
    "Div": _arithmetic("div"),
    "Pow": _arithmetic("pow"),
    "Mod": _mod,
    "Max": _variadic(Maximum.apply),
    "Min": _variadic(Minimum.apply),
    "Sum": _variadic(lambda a, b: a + b),
    "Neg": lambda node: -node.inputs[0],
    "Reciprocal": lambda node: 1 / node.inputs[0],
    "Exp": _method("exp"),
    "Log": _method("log"),
    "Sqrt": _method("sqrt"),
    "Abs": _method("abs"),
    "Sin": _method("sin"),
    "Cos": _method("cos"),
    "Tanh": _method("tanh"),
    "Sigmoid": _method("sigmoid"),
    "Relu": _method("relu"),
    "Floor": _method("floor"),
    "Ceil": _method("ceil"),
    "Round": _method("round"),
    "Erf": lambda node: _erf(node.inputs[0]),
    "Softplus": lambda node: F.softplus(node.inputs[0]),
    "LeakyRelu": lambda node: F.leaky_relu(node.inputs[0], node.attr("alpha", 0.01)),
    "Elu": lambda node: F.elu(node.inputs[0], node.attr("alpha", 1.0)),
    "Gelu": _gelu,
    "HardSigmoid": _hard_sigmoid,
    "Clip": _clip,
    "Cast": _cast,
    "Identity": _identity,
    "Dropout": _dropout,
    "Constant": _constant,
    "ConstantOfShape": _constant_of_shape,
    "Range": _range,
    "Shape": _shape,
    "Reshape": _reshape,
    "Flatten": _flatten,
    "Transpose": _transpose,
    "Squeeze": _squeeze,
    "Unsqueeze": _unsqueeze,
    "Concat": _concat,
    "Split": _split,
    "Slice": _slice,
    "Gather": _gather,
    "GatherElements": _gather_elements,
    "Expand": _expand,
    "Tile": _tile,
    "Where": _where,
    "Equal": _compare(np.equal),
    "Less": _compare(np.less),
    "LessOrEqual": _compare(np.less_equal),
    "Greater": _compare(np.greater),
    "GreaterOrEqual": _compare(np.greater_equal),
    "And": _compare(np.logical_and),
    "Or": _compare(np.logical_or),
    "Xor": _compare(np.logical_xor),
    "Not": lambda node: _tensor(np.logical_not(node.inputs[0].array)),
    "Softmax": _softmax("softmax"),
    "LogSoftmax": _softmax("log_softmax"),
    "ReduceSum": _reduce("sum"),
    "ReduceMean": _reduce("mean"),
    "ReduceMax": _reduce("amax"),
    "ReduceMin": _reduce("amin"),
    "ReduceProd": _reduce("prod"),
    "ReduceLogSumExp": _reduce("logsumexp"),
    "Pad": _pad,
    "Einsum": _einsum,
    "CumSum": _cumsum,
    "MatMul": lambda node: node.inputs[0] @ node.inputs[1],
}


def _erf(x):
    return Erf.apply(x)
