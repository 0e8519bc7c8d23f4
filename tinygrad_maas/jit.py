"""tm.jit.trace: a user's own Module as a traced graph, saved as data and served without its code.

    traced = tm.jit.trace(model, example)        # PyTorch's name; a Module that runs the recorded graph
    traced.save("models/my_model")               # architecture.json (the graph as JSON) + weights.safetensors
    loaded = tm.jit.load("models/my_model")      # no class of the user's is imported, no code is run

The trace is tm.onnx's (onnx/tracer.py): one forward pass recorded through the op layer, in ONNX's operator
vocabulary, and checked on other inputs before it is returned. It is saved in the saved-model format every
model here uses (nn/architecture.py), with the graph in architecture.json:

    {"type": "tinygrad_maas.graph", "opset": 18, "inputs": [["x", "float32", ["batch", 784]]], "outputs": ...,
     "nodes": [{"op": "Gemm", "name": ..., "inputs": [...], "outputs": [...], "attributes": {...}}, ...],
     "weights": {"fc.weight": {"state": "fc.weight", "dtype": "float32", "shape": [10, 784]}, ...},
     "constants": {"axes_3": {"dtype": "int64", "shape": [1], "values": [1]}}}

so `tinygrad-maas predict`, `export` and `serve` take it as any saved model. Unlike ONNX files it needs no
extra package. The first dimension of every input and output is dynamic (the batch) unless dynamic_axes
says otherwise.
"""

import numpy as np

from .creation import empty_for_parameters
from .nn.architecture import load_model, register_architecture, save_model
from .onnx.graph import Graph, Node
from .onnx.runner import GraphModule
from .onnx.tracer import DEFAULT_OPSET, trace_graph, verify

FORMAT = "tinygrad_maas.graph"
_DTYPES = {"float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool"}


class TracedModule(GraphModule):
    """A traced graph as a Module (PyTorch's ScriptModule role): call it, train it, save it."""

    def __init__(self, graph, where="the traced model"):
        super().__init__(graph, where)
        self.graph = graph

    def save(self, directory):
        """The saved-model directory: architecture.json (the graph) and weights.safetensors."""
        save_model(self, directory)

    def architecture_config(self):
        return graph_to_config(self.graph, self.state_keys)


def trace(func, example_inputs, *, input_names=None, output_names=None, dynamic_axes=None, check_trace=True):
    """A TracedModule of func(*example_inputs) (func: an nn.Module). With check_trace (PyTorch's default)
    the graph is run on other inputs and must give the module's outputs for them (onnx/tracer.py verify)."""
    axes = "batch" if dynamic_axes is None else dynamic_axes
    graph, examples, outputs = trace_graph(
        func, example_inputs, input_names, output_names, axes, DEFAULT_OPSET, "jit.trace"
    )
    traced = TracedModule(graph)
    if check_trace:
        verify(traced, func, graph, examples, outputs, "jit.trace")
    return traced


def load(f, map_location=None):
    """The TracedModule saved in directory `f` by TracedModule.save (in eval mode, as torch.jit.load).
    map_location is accepted for PyTorch's signature: everything here lives on the CPU."""
    from .device import require_cpu

    if map_location is not None:
        require_cpu(map_location, "jit.load")
    module, _ = load_model(f)
    if not isinstance(module, TracedModule):
        raise ValueError(f"tm.jit.load(): {f!r} holds a saved model, not a traced graph; use its own loader")
    return module


# ---------------------------------------------------------------------- the graph as JSON
def graph_to_config(graph, state_keys):
    def value(v):
        if isinstance(v, np.ndarray):
            return {"dtype": str(v.dtype), "shape": list(v.shape), "values": v.reshape(-1).tolist()}
        if isinstance(v, bytes):
            return v.decode()
        return list(v) if isinstance(v, tuple) else v

    weights, constants = {}, {}
    for name, array in graph.initializers.items():
        if name in state_keys:
            weights[name] = {"state": state_keys[name], "dtype": str(array.dtype), "shape": list(array.shape)}
        else:
            constants[name] = value(array)
    spec = lambda entries: [[n, str(np.dtype(d)), None if s is None else list(s)] for n, d, s in entries]
    return {
        "type": FORMAT,
        "name": graph.name,
        "opset": graph.opset,
        "inputs": spec(graph.inputs),
        "outputs": spec(graph.outputs),
        "nodes": [
            {
                "op": n.op_type,
                "name": n.name,
                "inputs": n.inputs,
                "outputs": n.outputs,
                "attributes": {k: value(v) for k, v in n.attributes.items()},
            }
            for n in graph.nodes
        ],
        "weights": weights,
        "constants": constants,
    }


def graph_from_config(config):
    """The TracedModule an architecture.json graph describes: weights allocated (under load_model's
    parameter budget) and filled by the caller's load_state_dict. Every field is checked."""
    where = "architecture.json graph"
    nodes = [_node(entry, i, where) for i, entry in enumerate(_field(config, "nodes", list, where))]
    initializers, keys = {}, {}
    for name, entry in _field(config, "weights", dict, where).items():
        dtype, shape = _dtype(entry, f"{where} weight {name!r}"), _shape(entry, f"{where} weight {name!r}")
        array = empty_for_parameters(tuple(shape), dtype)
        array[...] = 0
        initializers[name] = array
        keys[name] = _field(entry, "state", str, f"{where} weight {name!r}")
    for name, entry in _field(config, "constants", dict, where).items():
        initializers[name] = _array(entry, f"{where} constant {name!r}")
    graph = Graph(
        nodes,
        initializers,
        [_spec(e, where) for e in _field(config, "inputs", list, where)],
        [_spec(e, where) for e in _field(config, "outputs", list, where)],
        _field(config, "opset", int, where),
        str(config.get("name", "graph")),
    )
    traced = TracedModule(graph, "the saved graph")
    if traced.state_keys != keys:
        raise ValueError(f"{where}: the weights' state names do not match the graph's initializers")
    return traced.eval()


def graph_shapes(config):
    """{state_dict name: shape} the weights file must hold (checked before anything is allocated)."""
    return {
        _field(entry, "state", str, "weight"): tuple(_shape(entry, "weight"))
        for entry in _field(config, "weights", dict, "architecture.json graph").values()
    }


def _field(entry, key, kind, where):
    if not isinstance(entry, dict) or not isinstance(entry.get(key), kind) or isinstance(entry.get(key), bool):
        raise ValueError(f"{where}: field {key!r} must be a {kind.__name__}")
    return entry[key]


def _dtype(entry, where):
    dtype = entry.get("dtype") if isinstance(entry, dict) else None
    if dtype not in _DTYPES:
        raise ValueError(f"{where}: dtype must be one of {sorted(_DTYPES)}, got {dtype!r:.40}")
    return np.dtype(dtype)


def _shape(entry, where):
    shape = _field(entry, "shape", list, where)
    if len(shape) > 8 or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape):
        raise ValueError(f"{where}: shape must be at most 8 sizes >= 0, got {shape!r:.80}")
    return shape


def _array(entry, where):
    dtype, shape = _dtype(entry, where), _shape(entry, where)
    values = _field(entry, "values", list, where)
    if len(values) != int(np.prod(shape, dtype=np.int64)):
        raise ValueError(f"{where}: {len(values)} values for shape {shape}")
    return np.asarray(values, dtype=dtype).reshape(shape)


def _node(entry, index, where):
    where = f"{where} node {index}"
    attributes = {}
    for key, value in _field(entry, "attributes", dict, where).items():
        attributes[key] = _array(value, f"{where} attribute {key!r}") if isinstance(value, dict) else value
    inputs, outputs = _field(entry, "inputs", list, where), _field(entry, "outputs", list, where)
    if not all(isinstance(n, str) for n in inputs + outputs):
        raise ValueError(f"{where}: inputs and outputs must be value names (strings)")
    return Node(_field(entry, "op", str, where), _field(entry, "name", str, where), inputs, outputs, attributes)


def _spec(entry, where):
    if not isinstance(entry, list) or len(entry) != 3 or not isinstance(entry[0], str):
        raise ValueError(f"{where}: each input and output is [name, dtype, shape]")
    name, dtype, shape = entry
    if shape is not None and (
        not isinstance(shape, list) or not all(isinstance(n, (int, str)) and not isinstance(n, bool) for n in shape)
    ):
        raise ValueError(f"{where}: the shape of {name!r} must list sizes and dim names")
    return name, _dtype({"dtype": dtype}, f"{where} {name!r}"), None if shape is None else tuple(shape)


register_architecture(FORMAT, graph_from_config, graph_shapes)
