"""Each op of the framework written as standard ONNX nodes: one emitter per op class.

An emitter gets the GraphBuilder, the op's arguments by name (as its forward declares them: Tensors, numbers,
arrays) and the output Tensor of the traced call, and returns the graph name of that output. The table at
the end is the list of ops export supports; an op missing from it stops the export with its name.
"""

import numpy as np

from ..ops import (
    binary,
    conv,
    conv_fused,
    cumulative,
    einsum,
    embedding,
    indexing,
    join,
    linear,
    matmul,
    pool,
    recurrent,
    reduce,
    shape,
    softmax,
    unary,
)
from ..tensor import Tensor
from .builder import ExportError

_INT64_MAX, _INT64_MIN = np.iinfo(np.int64).max, np.iinfo(np.int64).min


def _operand(g, value, dtype):
    """A tensor in the op's dtype: a traced value cast if it differs, a constant converted."""
    if isinstance(value, Tensor) and value.dtype != dtype and g.known(value):
        return g.cast(g.value(value), dtype)
    return g.value(value, dtype=dtype)


def _elementwise(op_type):
    def emit(g, args, out):
        names = [_operand(g, value, out.dtype) for value in args.values() if value is not None]
        return g.node(op_type, names)

    return emit


def _remainder(g, args, out):
    """a - floor(a / b) * b, the sign of the divisor as PyTorch (ONNX Mod with fmod=0 takes integers only)."""
    a, b = _operand(g, args["a"], out.dtype), _operand(g, args["b"], out.dtype)
    if out.dtype.kind in "iu":
        return g.node("Mod", [a, b], fmod=0)
    return g.node("Sub", [a, g.node("Mul", [g.node("Floor", [g.node("Div", [a, b])]), b])])


def _unary(op_type):
    return lambda g, args, out: g.node(op_type, [g.value(args["x"])])


def _log1p(g, args, out):
    x = g.value(args["x"])
    return g.node("Log", [g.node("Add", [x, g.constant(np.ones((), out.dtype))])])


def _expm1(g, args, out):
    x = g.value(args["x"])
    return g.node("Sub", [g.node("Exp", [x]), g.constant(np.ones((), out.dtype))])


def _step(g, args, out):
    kinds = {"floor": "Floor", "ceil": "Ceil", "round": "Round"}  # ONNX Round: halves to even, as torch.round
    rounding = getattr(args["rounding"], "__name__", "")
    if rounding not in kinds:
        raise ExportError(f"Step: no ONNX op for the rounding {rounding!r}")
    return g.node(kinds[rounding], [g.value(args["x"])])


def _clamp(g, args, out):
    x = g.value(args["x"])
    low, high = args.get("min"), args.get("max")
    if all(v is None or np.ndim(v) == 0 for v in (low, high)):
        bound = lambda v: "" if v is None else g.constant(np.asarray(v, dtype=out.dtype))
        return g.node("Clip", [x, bound(low), bound(high)])
    if low is not None:  # tensor bounds: elementwise max and min (Clip takes scalars only)
        x = g.node("Max", [x, _operand(g, low, out.dtype)])
    if high is not None:
        x = g.node("Min", [x, _operand(g, high, out.dtype)])
    return x


def _softplus(g, args, out):
    """x where beta x > threshold, else log(1 + e^(beta x)) / beta: PyTorch's formula, threshold included."""
    x = g.value(args["x"])
    beta = g.constant(np.asarray(args.get("beta", 1.0), dtype=out.dtype))
    threshold = g.constant(np.asarray(args.get("threshold", 20.0), dtype=out.dtype))
    scaled = g.node("Mul", [x, beta])
    soft = g.node("Div", [g.node("Softplus", [scaled]), beta])
    return g.node("Where", [g.node("Greater", [scaled, threshold]), x, soft])


def _to_dtype(g, args, out):
    return g.cast(g.value(args["x"]), out.dtype)


def _linear(g, args, out):
    """2-D input: Gemm(x, W, b, transB=1), as PyTorch exports nn.Linear. Otherwise MatMul with W^T."""
    x, weight, bias = args["x"], g.value(args["weight"]), args["bias"]
    if x.ndim == 2:
        inputs = [g.value(x), weight] + ([g.value(bias)] if bias is not None else [])
        return g.node("Gemm", inputs, transB=1)
    y = g.node("MatMul", [g.value(x), g.node("Transpose", [weight], perm=[1, 0])])
    return y if bias is None else g.node("Add", [y, g.value(bias)])


def _linear_relu(g, args, out):
    """The fused Linear, ReLU (ops/linear.py) as the two ONNX nodes it stands for."""
    return g.node("Relu", [_linear(g, args, out)])


def _conv(g, args, out):
    (top, bottom), (left, right) = args["padding"]
    weight = args["weight"]
    inputs = [g.value(args["x"]), g.value(weight)] + ([g.value(args["bias"])] if args["bias"] is not None else [])
    return g.node(
        "Conv",
        inputs,
        kernel_shape=list(weight.shape[2:]),
        strides=list(args["stride"]),
        pads=[top, left, bottom, right],
        dilations=list(args["dilation"]),
        group=int(args["groups"]),
    )


def _conv_relu_max_pool(g, args, out):
    """The fused block (ops/conv_fused.py) as the three ONNX nodes it stands for."""
    activation = g.node("Relu", [_conv(g, args, out)])
    return g.node("MaxPool", [activation], kernel_shape=[2, 2], strides=[2, 2], pads=[0, 0, 0, 0], dilations=[1, 1])


def _max_pool(g, args, out):
    x = args["x"]
    kernel, stride, padding, dilation = args["kernel"], args["stride"], args["padding"], args["dilation"]
    floor_size = [
        (x.shape[2 + i] + 2 * padding[i] - dilation[i] * (kernel[i] - 1) - 1) // stride[i] + 1 for i in range(2)
    ]
    return g.node(
        "MaxPool",
        [g.value(x)],
        kernel_shape=list(kernel),
        strides=list(stride),
        pads=[padding[0], padding[1], padding[0], padding[1]],
        dilations=list(dilation),
        ceil_mode=int(list(args["out_size"]) != floor_size),
    )


def _window_average(g, args, out):
    """Average pooling of any window layout (avg_pool2d, adaptive pools) as two matmuls with 0/1 window
    matrices, then a division: y = (P_h x P_w^T) / divisor. A whole-plane window is GlobalAveragePool."""
    x, ((starts_h, ends_h), (starts_w, ends_w)) = args["x"], _bounds(args["bounds"])
    height, width = x.shape[2:]
    divisor = np.broadcast_to(np.asarray(args["divisor"], dtype=out.dtype), out.shape[2:])
    whole = [0] == list(starts_h) == list(starts_w) and [height] == list(ends_h) and [width] == list(ends_w)
    if whole and np.all(divisor == height * width):
        return g.node("GlobalAveragePool", [g.value(x)])
    rows = np.zeros((len(starts_h), height), dtype=out.dtype)
    columns = np.zeros((width, len(starts_w)), dtype=out.dtype)
    for i, (s, e) in enumerate(zip(starts_h, ends_h)):
        rows[i, s:e] = 1
    for j, (s, e) in enumerate(zip(starts_w, ends_w)):
        columns[s:e, j] = 1
    summed = g.node("MatMul", [g.node("MatMul", [g.constant(rows, "window_rows"), g.value(x)]), g.constant(columns)])
    return g.node("Div", [summed, g.constant(np.ascontiguousarray(divisor), "window_sizes")])


def _bounds(bounds):
    starts_h, ends_h, starts_w, ends_w = bounds
    return (starts_h, ends_h), (starts_w, ends_w)


def _reshape(g, args, out):
    """Reshape to the traced shape. With dynamic axes the target keeps what it can symbolic: the leading
    dims that equal the input's are copied (0), and the first dim after them is inferred (-1), so a
    flatten or a head split follows the batch size as PyTorch's x.view(x.size(0), -1) does."""
    x = args["x"]
    target = list(out.shape)
    if 0 in target:
        return g.node("Reshape", [g.value(x), g.ints(target)], allowzero=1)
    if g.dynamic and [n for n in x.shape if n != 1] == [n for n in target if n != 1]:
        return _squeeze_unsqueeze(g, g.value(x), x.shape, target)  # only 1s move: every other size follows
    if g.dynamic:
        copied = 0
        while copied < min(x.ndim, out.ndim) and out.shape[copied] == x.shape[copied]:
            copied += 1
        target = [0] * copied + ([-1] if copied < out.ndim else []) + target[copied + 1 :]
    return g.node("Reshape", [g.value(x), g.ints(target)])


def _squeeze_unsqueeze(g, name, shape, target):
    """A reshape that only drops and adds dims of size 1, as Squeeze then Unsqueeze (PyTorch's form)."""
    ones = [i for i, n in enumerate(shape) if n == 1]
    if ones:
        name = g.node("Squeeze", [name, g.ints(ones, "axes")])
    new_ones = [i for i, n in enumerate(target) if n == 1]
    if new_ones:
        name = g.node("Unsqueeze", [name, g.ints(new_ones, "axes")])
    return name if ones or new_ones else g.node("Identity", [name])


def _permute(g, args, out):
    return g.node("Transpose", [g.value(args["x"])], perm=[int(d) for d in args["dims"]])


def _expand(g, args, out):
    """ONNX Expand broadcasts both ways: a dim the input already has is written 1, so it follows the input."""
    x = args["x"]
    target = list(out.shape)
    offset = out.ndim - x.ndim
    for i, n in enumerate(x.shape):
        if n == target[offset + i]:
            target[offset + i] = 1
    return g.node("Expand", [g.value(x), g.ints(target)])


def _repeat(g, args, out):
    x, repeats = args["x"], [int(r) for r in args["repeats"]]
    name = g.value(x)
    if len(repeats) > x.ndim:
        name = g.node("Unsqueeze", [name, g.ints(range(len(repeats) - x.ndim), "axes")])
    return g.node("Tile", [name, g.ints(repeats, "repeats")])


def _flip(g, args, out):
    axes = [int(a) for a in np.atleast_1d(args["axes"])]
    count = len(axes)
    return g.node(
        "Slice",
        [g.value(args["x"]), g.ints([-1] * count), g.ints([_INT64_MIN] * count), g.ints(axes), g.ints([-1] * count)],
    )


def _concat(g, args, out):
    return g.node("Concat", [_operand(g, a, out.dtype) for a in args["arrays"]], axis=int(args["axis"]))


def _stack(g, args, out):
    axis = int(args["axis"])
    parts = [g.node("Unsqueeze", [_operand(g, a, out.dtype), g.ints([axis], "axes")]) for a in args["arrays"]]
    return g.node("Concat", parts, axis=axis)


def _pad(g, args, out):
    widths = [(int(lo), int(hi)) for lo, hi in args["widths"]]
    pads = [lo for lo, _ in widths] + [hi for _, hi in widths]  # ONNX Pad: every begin, then every end
    value = g.constant(np.asarray(args.get("value", 0.0), dtype=out.dtype))
    return g.node("Pad", [g.value(args["x"]), g.ints(pads, "pads"), value], mode="constant")


def _reduction(op_type, axes_key="axes"):
    def emit(g, args, out):
        return g.reduce(op_type, g.value(args["x"]), args[axes_key], args.get("keepdim", False))

    return emit


def _var(g, args, out):
    """sum (x - mean)^2 / (n - correction) over the axes, n the number of elements reduced."""
    x, axes, keepdim = args["x"], args["axes"], args.get("keepdim", False)
    name = g.value(x)
    reduced = range(x.ndim) if axes is None else np.atleast_1d(axes)
    count = int(np.prod([x.shape[a] for a in reduced])) - args.get("correction", 1)
    centred = g.node("Sub", [name, g.reduce("ReduceMean", name, axes, True)])
    total = g.reduce("ReduceSum", g.node("Mul", [centred, centred]), axes, keepdim)
    return g.node("Div", [total, g.constant(np.asarray(count, dtype=out.dtype))])


def _root(g, args, out):
    s = g.value(args["s"])
    if args["n"] == 2:
        return g.node("Sqrt", [s])
    return g.node("Pow", [s, g.constant(np.asarray(1.0 / args["n"], dtype=out.dtype))])


def _abs_pow(g, args, out):
    return g.node("Pow", [g.node("Abs", [g.value(args["x"])]), g.constant(np.asarray(args["p"], dtype=out.dtype))])


def _take_along_dim(g, args, out):
    """max(dim) and min(dim) values: the indices were computed outside the graph, so the op is written as
    the reduction they came from (checked on the traced values)."""
    x, axis, keepdim = args["x"], int(args["axis"]), args.get("keepdim", False)
    for op_type, pick in (("ReduceMax", np.amax), ("ReduceMin", np.amin)):
        expected = pick(x.array, axis=axis, keepdims=keepdim)
        if np.array_equal(expected, out.array, equal_nan=True):
            return g.reduce(op_type, g.value(x), (axis,), keepdim)
    raise ExportError("TakeAlongDim: only the values of max(dim) and min(dim) can be written to ONNX")


def _softmax(op_type):
    return lambda g, args, out: g.node(op_type, [g.value(args["x"])], axis=int(args["axis"]))


def _matmul(g, args, out):
    return g.node("MatMul", [_operand(g, args["a"], out.dtype), _operand(g, args["b"], out.dtype)])


def _contract(g, args, out):
    sa, sb, so = args["subscripts"]
    return g.node("Einsum", [g.value(args["a"]), g.value(args["b"])], equation=f"{sa},{sb}->{so}")


def _rearrange(g, args, out):
    sa, so = args["subscripts"]
    return g.node("Einsum", [g.value(args["a"])], equation=f"{sa}->{so}")


def _cumsum(g, args, out):
    return g.node("CumSum", [g.value(args["x"]), g.ints(int(args["axis"]), "axis")])


def _gather(g, args, out):
    x, dim, index = args["x"], int(args["dim"]), args["index"]
    if any(i != dim and a != b for i, (a, b) in enumerate(zip(np.shape(index), x.shape))):
        raise ExportError(
            f"gather: ONNX GatherElements needs the index {np.shape(index)} to match the input {x.shape} "
            f"outside dim {dim}"
        )
    return g.node("GatherElements", [g.value(x), g.value(index)], axis=dim)


def _embedding(g, args, out):
    return g.node("Gather", [g.value(args["weight"]), g.value(args["indices"])], axis=0)


def _masked_fill(g, args, out):
    value = g.constant(np.asarray(args["value"], dtype=out.dtype))
    return g.node("Where", [g.value(args["mask"]), value, g.value(args["x"])])


def _where(g, args, out):
    condition = g.value(args["condition"])
    return g.node("Where", [condition, _operand(g, args["x"], out.dtype), _operand(g, args["other"], out.dtype)])


def _index(g, args, out):
    """x[key]: slices, ints and None as Slice, Squeeze and Unsqueeze; one integer array among full slices
    as Gather. Boolean masks select a data-dependent number of elements and are not exported."""
    x, key = args["x"], args["key"]
    parts = list(key) if isinstance(key, tuple) else [key]
    if any(p is Ellipsis for p in parts):
        at = parts.index(Ellipsis)
        used = sum(1 for p in parts if p is not None and p is not Ellipsis)
        parts[at : at + 1] = [slice(None)] * (x.ndim - used)
    arrays = [i for i, p in enumerate(parts) if isinstance(p, (np.ndarray, Tensor)) and np.ndim(p) > 0]
    if arrays:
        return _gather_index(g, x, parts, arrays)
    name = g.value(x)
    starts, ends, axes, steps, squeeze, unsqueeze = [], [], [], [], [], []
    axis = position = 0  # axis of x, position in the output
    for part in parts:
        if part is None:
            unsqueeze.append(position)
            position += 1
            continue
        if isinstance(part, slice):
            if part != slice(None):
                step = 1 if part.step is None else int(part.step)
                default_start, default_end = (0, _INT64_MAX) if step > 0 else (-1, _INT64_MIN)
                starts.append(default_start if part.start is None else int(part.start))
                ends.append(default_end if part.stop is None else int(part.stop))
                axes.append(axis)
                steps.append(step)
            position += 1
        else:  # an integer: a slice of one element, then squeezed
            i = int(part)
            starts.append(i)
            ends.append(_INT64_MAX if i == -1 else i + 1)
            axes.append(axis)
            steps.append(1)
            squeeze.append(axis)
        axis += 1
    if axes:
        name = g.node("Slice", [name, g.ints(starts), g.ints(ends), g.ints(axes), g.ints(steps)])
    if squeeze:
        name = g.node("Squeeze", [name, g.ints(squeeze, "axes")])
    if unsqueeze:
        name = g.node("Unsqueeze", [name, g.ints(unsqueeze, "axes")])
    return name


def _gather_index(g, x, parts, arrays):
    position = arrays[0]
    others = [p for i, p in enumerate(parts) if i != position]
    index = parts[position]
    if len(arrays) > 1 or any(p != slice(None) for p in others):
        raise ExportError("indexing: only one integer tensor among full slices (x[idx], x[:, idx]) is written to ONNX")
    if np.asarray(index.array if isinstance(index, Tensor) else index).dtype == np.bool_:
        raise ExportError("indexing with a boolean mask selects a data-dependent number of elements: not exported")
    return g.node("Gather", [g.value(x), g.value(index)], axis=position)


def _gates(g, weight, order, size):
    """A PyTorch gate-stacked weight (or bias) reordered to ONNX's gate order, with the direction axis."""
    pieces = g.node("Split", [weight, g.ints([size] * len(order), "split")], outputs=len(order), axis=0)
    reordered = g.node("Concat", [pieces[i] for i in order], axis=0)
    return g.node("Unsqueeze", [reordered, g.ints([0], "axes")])


def _recurrent_inputs(g, args, out, order, gates):
    size = args["h0"].shape[1]
    w = _gates(g, g.value(args["w_ih"]), order, size)
    r = _gates(g, g.value(args["w_hh"]), order, size)
    zeros = np.zeros(gates * size, dtype=out.dtype)
    biases = [g.value(args[k]) if args[k] is not None else g.constant(zeros) for k in ("b_ih", "b_hh")]
    bias = g.node("Concat", [_gates(g, b, order, size) for b in biases], axis=1)
    return size, w, r, bias, _initial(g, args["h0"])


def _initial(g, state):
    """An initial state with the direction axis; "" (ONNX's zeros, of whatever batch size) for a zero state
    the layer made itself, so the graph keeps a dynamic batch."""
    if not g.known(state) and not np.any(state.array):
        return ""
    return g.node("Unsqueeze", [g.value(state), g.ints([0], "axes")])


def _gru(g, args, out):
    """ONNX GRU: gates z, r, h (PyTorch: r, z, n) and linear_before_reset=1, PyTorch's n gate."""
    size, w, r, bias, h0 = _recurrent_inputs(g, args, out, (1, 0, 2), 3)
    y, _ = g.node("GRU", [g.value(args["x"]), w, r, bias, "", h0], outputs=2, hidden_size=size, linear_before_reset=1)
    return g.node("Squeeze", [y, g.ints([1], "axes")])


def _lstm(g, args, out):
    """ONNX LSTM: gates i, o, f, c (PyTorch: i, f, g, o). Our op returns (2, T, N, H), every h and every c;
    ONNX gives every h but only the last c, so the c half holds c_T at each step, which is all that
    lstm_sequence reads of it (c_T)."""
    size, w, r, bias, h0 = _recurrent_inputs(g, args, out, (0, 3, 1, 2), 4)
    c0 = _initial(g, args["c0"])
    y, _, c_last = g.node("LSTM", [g.value(args["x"]), w, r, bias, "", h0, c0], outputs=3, hidden_size=size)
    hs = g.node("Squeeze", [y, g.ints([1], "axes")])
    cs = g.node("Expand", [c_last, g.ints([out.shape[1], 1, 1])])  # (1, N, H) -> (T, N, H): T is static
    axis0 = g.ints([0], "axes")
    return g.node("Concat", [g.node("Unsqueeze", [hs, axis0]), g.node("Unsqueeze", [cs, axis0])], axis=0)


class Comparison:
    """Stands for a comparison or logical op in a recording (they make no Function: no gradient)."""


_COMPARISONS = {
    "equal": "Equal",
    "less": "Less",
    "less_equal": "LessOrEqual",
    "greater": "Greater",
    "greater_equal": "GreaterOrEqual",
    "bitwise_and": "And",
    "bitwise_or": "Or",
    "bitwise_xor": "Xor",
}


def _comparison(g, args, out):
    name = args["ufunc"].__name__
    a, b = args["a"], args["b"]
    dtype = np.result_type(a.dtype, b.dtype if isinstance(b, Tensor) else np.asarray(b).dtype)
    if isinstance(b, (int, float, bool)):
        dtype = a.dtype  # a Python number takes the tensor's dtype
    if name in ("bitwise_and", "bitwise_or", "bitwise_xor") and dtype != np.bool_:
        raise ExportError(f"{name} of {dtype} tensors has no ONNX form here (only bool And/Or/Xor)")
    left, right = _operand(g, a, dtype), _operand(g, b, dtype)
    if name == "not_equal":
        return g.node("Not", [g.node("Equal", [left, right])])
    if name not in _COMPARISONS:
        raise ExportError(f"the comparison {name} has no ONNX form")
    return g.node(_COMPARISONS[name], [left, right])


EMITTERS = {
    Comparison: _comparison,
    binary.Add: _elementwise("Add"),
    binary.Sub: _elementwise("Sub"),
    binary.Mul: _elementwise("Mul"),
    binary.Div: _elementwise("Div"),
    binary.Pow: _elementwise("Pow"),
    binary.Maximum: _elementwise("Max"),
    binary.Minimum: _elementwise("Min"),
    binary.Remainder: _remainder,
    unary.Neg: _unary("Neg"),
    unary.Exp: _unary("Exp"),
    unary.Log: _unary("Log"),
    unary.Log1p: _log1p,
    unary.Expm1: _expm1,
    unary.Clone: _unary("Identity"),
    unary.Step: _step,
    unary.Sqrt: _unary("Sqrt"),
    unary.Abs: _unary("Abs"),
    unary.Sin: _unary("Sin"),
    unary.Cos: _unary("Cos"),
    unary.Tanh: _unary("Tanh"),
    unary.Sigmoid: _unary("Sigmoid"),
    unary.Relu: _unary("Relu"),
    unary.Erf: _unary("Erf"),
    unary.Clamp: _clamp,
    unary.Softplus: _softplus,
    unary.ToDtype: _to_dtype,
    linear.Linear: _linear,
    linear.LinearRelu: _linear_relu,
    matmul.MatMul: _matmul,
    conv.Conv2d: _conv,
    pool.MaxPool2d: _max_pool,
    conv_fused.Conv2dReluMaxPool: _conv_relu_max_pool,
    pool.WindowAverage: _window_average,
    shape.Reshape: _reshape,
    shape.Permute: _permute,
    shape.Expand: _expand,
    shape.Repeat: _repeat,
    shape.Flip: _flip,
    join.Cat: _concat,
    join.Stack: _stack,
    join.ConstantPad: _pad,
    reduce.Sum: _reduction("ReduceSum"),
    reduce.Mean: _reduction("ReduceMean"),
    reduce.AMax: _reduction("ReduceMax"),
    reduce.AMin: _reduction("ReduceMin"),
    reduce.Prod: _reduction("ReduceProd", "axis"),
    reduce.LogSumExp: _reduction("ReduceLogSumExp"),
    reduce.Var: _var,
    reduce.Root: _root,
    reduce.AbsPow: _abs_pow,
    reduce.TakeAlongDim: _take_along_dim,
    softmax.Softmax: _softmax("Softmax"),
    softmax.LogSoftmax: _softmax("LogSoftmax"),
    einsum.Contract: _contract,
    einsum.Rearrange: _rearrange,
    cumulative.Cumsum: _cumsum,
    indexing.Index: _index,
    indexing.Gather: _gather,
    indexing.MaskedFill: _masked_fill,
    indexing.Where: _where,
    embedding.Embedding: _embedding,
    recurrent.GRUSequence: _gru,
    recurrent.LSTMSequence: _lstm,
}
