"""GraphModule: a Module whose forward runs a Graph's nodes with our tensor ops.

    module = GraphModule(graph)          # what tm.onnx.load and tm.jit.load return
    y = module(x)                        # each node: one handler (import_ops.py, import_layers.py)

Float initializers become Parameters (trainable: gradients flow through the graph, so an imported model
fine-tunes), nested by the dots in their names as the model's own modules were ("fc.weight" is
`module.fc.weight`, so a state_dict of the original model loads into it). BatchNormalization's statistics
become buffers; integer initializers (shapes, indices) stay constants. Every node's operator is checked when
the module is made, and every node input must be made before it is read: a graph that cannot run is refused
before it runs, naming the node.
"""

import re

import numpy as np

from ..nn.module import Module, Parameter
from ..tensor import Tensor
from .import_layers import LAYER_HANDLERS, STATISTICS_INPUTS
from .import_ops import HANDLERS, Call, OnnxRuntimeError

HANDLERS = {**HANDLERS, **LAYER_HANDLERS}


class GraphError(ValueError):
    """The graph cannot be run here: the message names the node, operator or value."""


class GraphModule(Module):
    """Runs a Graph (onnx/graph.py). Inputs and outputs in the graph's order."""

    def __init__(self, graph, where="the model"):
        super().__init__()
        self._where, self._opset = where, graph.opset
        for node in graph.nodes:
            if node.op_type not in HANDLERS:
                raise GraphError(
                    f"{where}: node {node.name!r} uses the operator {node.op_type}, which tm.onnx does not run "
                    "(docs/onnx.md lists the supported operators)"
                )
        self._nodes = [(n.op_type, n.name, n.inputs, n.outputs, n.attributes) for n in graph.nodes]
        statistics = {
            node.inputs[i]
            for node in graph.nodes
            for i in STATISTICS_INPUTS.get(node.op_type, ())
            if i < len(node.inputs)
        }
        self._constants, self._state = {}, {}
        self.state_keys = {}  # initializer name -> its name in state_dict()
        for name, array in graph.initializers.items():
            if array.dtype.kind == "f":
                tensor = Tensor(array) if name in statistics else Parameter(array)
                self._state[name] = self._attach(name, tensor, buffer=name in statistics)
            else:
                self._constants[name] = Tensor(array)
        self.input_names = [name for name, _, _ in graph.inputs if name not in graph.initializers]
        self.output_names = [name for name, _, _ in graph.outputs]
        self.input_types = {name: (dtype, shape) for name, dtype, shape in graph.inputs}
        self.output_types = {name: (dtype, shape) for name, dtype, shape in graph.outputs}
        _check_wiring(self._nodes, set(self.input_names) | set(graph.initializers), self.output_names, where)

    def _attach(self, name, tensor, buffer=False):
        """Register under the initializer's dotted name, creating the modules on the way."""
        parts = [_identifier(p) for p in name.split(".")] if _nestable(name) else [_identifier(name)]
        original = name
        owner = self
        for part in parts[:-1]:
            child = owner._modules.get(part)
            if child is None:
                child = Module()
                owner.add_module(part, child)
            owner = child
        leaf = parts[-1]
        while hasattr(owner, leaf) and leaf not in owner._parameters and leaf not in owner._buffers:
            leaf += "_"
        if buffer:
            owner.register_buffer(leaf, tensor)
        else:
            owner.register_parameter(leaf, tensor)
        self.state_keys[original] = ".".join(parts[:-1] + [leaf])
        return tensor

    def forward(self, *inputs):
        if len(inputs) != len(self.input_names):
            raise ValueError(
                f"{self._where} takes {len(self.input_names)} inputs {self.input_names}, got {len(inputs)}"
            )
        values = dict(self._constants)
        values.update(self._state)
        for name, value in zip(self.input_names, inputs):
            values[name] = _as_input(value, name, self.input_types[name])
        for op_type, name, input_names, output_names, attributes in self._nodes:
            call = Call(
                op_type,
                name,
                [values[n] if n else None for n in input_names],
                attributes,
                self._opset,
                len(output_names),
            )
            try:
                result = HANDLERS[op_type](call)
            except OnnxRuntimeError:
                raise
            except (ValueError, TypeError, IndexError) as error:
                raise OnnxRuntimeError(f"ONNX node {name!r} ({op_type}): {error}") from None
            results = result if isinstance(result, tuple) else (result,)
            for output, value in zip(output_names, results):
                if output:
                    values[output] = value
        outputs = tuple(values[n] for n in self.output_names)
        return outputs[0] if len(outputs) == 1 else outputs


def _as_input(value, name, declared):
    dtype, shape = declared
    tensor = value if isinstance(value, Tensor) else Tensor(np.asarray(value))
    if dtype is not None and tensor.dtype != dtype:
        raise TypeError(f"ONNX input {name!r} must be {dtype}, got {tensor.dtype}")
    if shape is not None and (
        len(shape) != tensor.ndim or any(isinstance(s, int) and s != n for s, n in zip(shape, tensor.shape))
    ):
        wanted = tuple(s if isinstance(s, int) else "?" for s in shape)
        raise ValueError(f"ONNX input {name!r} must have shape {wanted}, got {tuple(tensor.shape)}")
    return tensor


def _check_wiring(nodes, available, outputs, where):
    """Every node input is made before it is used (ONNX graphs are topologically sorted), every output made."""
    available = set(available)
    for _, name, input_names, output_names, _ in nodes:
        for value in input_names:
            if value and value not in available:
                raise GraphError(f"{where}: node {name!r} reads {value!r}, which nothing before it makes")
        available.update(output_names)
    missing = [o for o in outputs if o not in available]
    if missing:
        raise GraphError(f"{where}: the graph's outputs {missing} are made by no node")


def _nestable(name):
    return all(part and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*|[0-9]+", part) for part in name.split("."))


def _identifier(part):
    part = re.sub(r"\W", "_", part)
    return part if part and not part[0].isdigit() or part.isdigit() else f"_{part}"
