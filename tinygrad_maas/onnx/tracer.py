"""Tracing: run a Module once with every op recorded, and turn the recording into a Graph (graph.py).

The model runs once, in eval mode, on example inputs while every op it applies is recorded
(autograd/observe.py, the same hook the profiler uses), comparisons included; Python control flow and values
computed outside ops are fixed at that moment, as with PyTorch's tracer. Normalisation layers are recorded
as whole layers and written as single ONNX nodes (BatchNormalization, LayerNormalization) instead of their
arithmetic. Each recorded op becomes ONNX nodes (export_ops.py).

verify() then runs the graph on our own ops: on the examples it must give the traced outputs (else an op
was written wrongly), and on the examples' values rolled by one place it must give the model's outputs for
them (else a value computed outside the op layer, such as a sort's order, was frozen into the graph). With
dynamic axes it is also run with the inputs doubled along them and must again give the model's outputs (a
size the trace fixed, such as zeros made from x.shape[0], is an error naming the axes).
Both tm.onnx.export and tm.jit.trace build their graphs here.
"""

import inspect
import warnings

import numpy as np

from ..autograd import grad_mode, observe
from ..nn.module import Module
from ..nn.normalization import LayerNorm, _BatchNorm
from ..tensor import Tensor
from .builder import ExportError, GraphBuilder
from .export_ops import EMITTERS, Comparison
from .graph import Graph

DEFAULT_OPSET = 18
_SIGNATURES = {}


def trace_graph(model, args, input_names=None, output_names=None, dynamic_axes=None, opset=DEFAULT_OPSET, who="export"):
    """(Graph, example input tensors, traced output tensors) of model(*args). dynamic_axes is PyTorch's
    {name: {axis: dim name}}, or "batch" for the first axis of every input and output."""
    if not isinstance(model, Module):
        raise TypeError(f"tm.{who}(): model must be an nn.Module, got {type(model).__name__}")
    args = tuple(args) if isinstance(args, (tuple, list)) else (args,)
    examples = [a if isinstance(a, Tensor) else Tensor(np.asarray(a)) for a in args]
    input_names = _names(input_names, len(examples), "input", who)
    outputs, recording = _trace(model, examples)
    output_names = _names(output_names, len(outputs), "output", who)
    if dynamic_axes == "batch":  # tm.jit's default: the first axis of every input and output
        dynamic_axes = {name: {0: "batch"} for name in input_names + output_names}
    dynamic = _dynamic_axes(dynamic_axes)
    unknown = set(dynamic) - set(input_names) - set(output_names)
    if unknown:
        raise ValueError(f"tm.{who}(): dynamic_axes names {sorted(unknown)}: neither inputs nor outputs")

    state = list(model.named_parameters()) + [(n, b) for n, b in model.named_buffers() if b is not None]
    g = GraphBuilder(opset, state)
    g.dynamic = bool(dynamic)
    for tensor, name in zip(examples, input_names):
        g.bind(tensor, name)
    for call in recording.calls:
        g.bind(call.output, _emit(g, call))
    for out, name in zip(outputs, output_names):
        g.output(out, name)
    declared = lambda t, name: (name, t.dtype, _shape(t, dynamic.get(name), bool(dynamic)))
    graph = Graph(
        g.nodes,
        g.initializers,
        [declared(t, n) for t, n in zip(examples, input_names)],
        [declared(t, n) for t, n in zip(outputs, output_names)],
        opset,
        type(model).__name__,
    )
    graph.dynamic_axes = dynamic
    return graph, examples, outputs


class _Call:
    __slots__ = ("op", "args", "output", "module")

    def __init__(self, op, args, output, module=None):
        self.op, self.args, self.output, self.module = op, args, output, module


class _Recording:
    """The observe listener: every op applied while no fused module is running, in order."""

    def __init__(self):
        self.calls, self.paused = [], 0

    def on_apply(self, cls, inputs, kwargs, output):
        if not self.paused:
            self.calls.append(_Call(cls, _bind(cls, inputs, kwargs), output))

    def on_comparison(self, ufunc, left, right, output):
        if not self.paused:
            self.calls.append(_Call(Comparison, {"ufunc": ufunc, "a": left, "b": right}, output))

    def module_pre(self, module, inputs):
        self.paused += 1

    def module_post(self, module, inputs, output):
        self.paused -= 1
        if not self.paused:
            self.calls.append(_Call(type(module), {"x": inputs[0]}, output, module))


def _bind(cls, inputs, kwargs):
    """The op's arguments by the names its forward gives them (ctx left out)."""
    signature = _SIGNATURES.get(cls)
    if signature is None:
        signature = _SIGNATURES[cls] = inspect.signature(cls.forward)
    bound = signature.bind(None, *inputs, **kwargs)
    bound.apply_defaults()
    arguments = dict(bound.arguments)
    arguments.pop(next(iter(signature.parameters)))
    return arguments


def _trace(model, examples):
    """Run model(*examples) in eval mode with every op recorded; returns (outputs, recording)."""
    recording = _Recording()
    handles = []
    for module in model.modules():
        if _fused(module):
            handles.append(module.register_forward_pre_hook(recording.module_pre))
            handles.append(module.register_forward_hook(recording.module_post))
    was_training = model.training
    model.eval()
    try:
        with grad_mode.no_grad(), observe.watching(recording):
            result = model(*examples)
    finally:
        model.train(was_training)
        for handle in handles:
            handle.remove()
    outputs = _flattened(result)
    if not outputs or not all(isinstance(o, Tensor) for o in outputs):
        raise ExportError(f"the traced model must return a tensor or a tuple of tensors, got {type(result).__name__}")
    return tuple(outputs), recording


def _flattened(result):
    """The model's outputs in order, nested tuples and lists flattened (LSTM's (out, (h, c))), as PyTorch's."""
    if isinstance(result, (tuple, list)):
        return tuple(t for part in result for t in _flattened(part))
    return (result,)


def _fused(module):
    """Layers written as one ONNX node rather than the ops they run."""
    if isinstance(module, _BatchNorm):
        return module.track_running_stats and module.running_mean is not None
    return isinstance(module, LayerNorm)


def _emit(g, call):
    if call.module is not None:
        return _emit_module(g, call.module, call.args["x"], call.output)
    emitter = EMITTERS.get(call.op)
    if emitter is None:
        raise ExportError(
            f"the op {call.op.__name__} ({call.op.__module__}) has no ONNX form; docs/onnx.md lists the ops that export"
        )
    return emitter(g, call.args, call.output)


def _emit_module(g, module, x, out):
    """BatchNorm (eval) as BatchNormalization, LayerNorm as LayerNormalization."""
    dtype = out.dtype
    if isinstance(module, _BatchNorm):
        channels = module.num_features
        scale = module.weight if module.weight is not None else np.ones(channels, dtype)
        bias = module.bias if module.bias is not None else np.zeros(channels, dtype)
        inputs = [g.value(x), g.value(scale), g.value(bias), g.value(module.running_mean), g.value(module.running_var)]
        return g.node("BatchNormalization", inputs, epsilon=float(module.eps))
    shape = module.normalized_shape
    scale = module.weight if module.weight is not None else np.ones(shape, dtype)
    inputs = [g.value(x), g.value(scale)] + ([g.value(module.bias)] if module.bias is not None else [])
    return g.node("LayerNormalization", inputs, axis=-len(shape), epsilon=float(module.eps))


def _names(names, count, prefix, who):
    if names is None:
        return [f"{prefix}{i}" if count > 1 else prefix for i in range(count)]
    names = list(names)
    if len(names) != count or len(set(names)) != count:
        raise ValueError(f"tm.{who}(): expected {count} distinct {prefix} names, got {names}")
    return names


def _dynamic_axes(dynamic_axes):
    """{name: {axis: dim name}}; a list of axes gets PyTorch's generated names."""
    result = {}
    for name, axes in (dynamic_axes or {}).items():
        if isinstance(axes, (list, tuple)):
            axes = {int(a): f"{name}_dynamic_axes_{i + 1}" for i, a in enumerate(axes)}
        result[name] = {int(a): str(n) for a, n in dict(axes).items()}
    return result


def _shape(tensor, axes, any_dynamic):
    """The declared shape: dynamic axes by name; with dynamic axes elsewhere, an output's other dims are
    left unnamed (they may depend on the dynamic ones)."""
    if axes is None and any_dynamic:
        return [None] * tensor.ndim
    return [(axes or {}).get(i, n) for i, n in enumerate(tensor.shape)]


def verify(graph_module, model, graph, examples, outputs, who="export"):
    """Raise if the graph does not compute the model (see the module docstring); warn if a dynamic axis
    cannot change size."""
    problem = _differs(outputs, _run(graph_module, examples))
    if problem:
        raise ExportError(
            f"tm.{who}(): the written graph does not reproduce the traced model ({problem}): an op was "
            "written wrongly; please report it"
        )
    rolled = [Tensor(np.roll(t.array.reshape(-1), 1).reshape(t.shape)) for t in examples]
    expected = _run_eval(model, rolled)
    problem = _differs(expected, _run(graph_module, rolled))
    if problem:
        raise ExportError(
            f"tm.{who}(): the graph traced from these inputs computes something else on other inputs "
            f"({problem}): a value was fixed at trace time. Ops computed outside the op layer (sorting, "
            "tm.unique, values taken through .numpy() or .item()) and Python branches on tensor values cannot "
            "be traced; docs/onnx.md lists what exports"
        )
    grown = [_doubled(t, graph.dynamic_axes.get(name)) for t, (name, _, _) in zip(examples, graph.inputs)]
    if all(g is t for g, t in zip(grown, examples)):
        return
    try:
        expected = _run_eval(model, grown)
    except Exception as error:  # noqa: BLE001 - the model itself cannot take other sizes: nothing to compare
        warnings.warn(
            f"tm.{who}(): the dynamic axes were not checked: the model itself does not run on the inputs doubled "
            f"along them ({error})",
            stacklevel=3,
        )
        return
    try:
        problem = _differs(expected, _run(graph_module, grown))
    except Exception as error:  # noqa: BLE001 - any failure here means the same thing to the user
        problem = f"it fails: {error}"
    if problem:
        raise ExportError(
            f"tm.{who}(): the graph does not follow its dynamic axes {graph.dynamic_axes} (on inputs doubled along "
            f"them {problem}): a size was fixed at trace time, e.g. a tensor made from x.shape[0] as a Python "
            "number. Make it from the input (zeros_like, new_zeros inside an op), or leave that axis static"
        )


def _run_eval(model, inputs):
    """The model's outputs for inputs, in eval mode (its own mode restored after)."""
    was_training = model.training
    model.eval()
    try:
        return _run(model, inputs)
    finally:
        model.train(was_training)


def _run(module, inputs):
    with grad_mode.no_grad():
        result = module(*inputs)
    return _flattened(result)


def _differs(expected, actual):
    """A description of the first output that differs (shape or values beyond float32 rounding), or None."""
    for i, (e, a) in enumerate(zip(expected, actual)):
        if e.shape != a.shape:
            return f"output {i} has shape {a.shape}, the model's {e.shape}"
        if not np.allclose(e.array, a.array, rtol=1e-4, atol=1e-5, equal_nan=True):
            return f"output {i} differs by up to {np.nanmax(np.abs(e.array - a.array)):.3g}"
    return None


def _doubled(tensor, axes):
    """The example repeated twice along its dynamic axes: a different size for each of them."""
    if not axes:
        return tensor
    array = tensor.array
    for axis in axes:
        array = np.concatenate([array, array], axis=axis)
    return Tensor(array)
