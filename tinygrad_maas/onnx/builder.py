"""GraphBuilder: the ONNX graph an export writes, one node at a time, with values named as they appear.

Every value of the traced forward pass gets a name: the model's inputs the names the user gave, parameters
and buffers their state_dict names (so the .onnx initializers read like the model), anything else a fresh
name. A tensor that no recorded op made and that is not a parameter becomes a constant initializer: it was
fixed when the forward pass ran (PyTorch's tracer freezes such values the same way).
"""

import numpy as np

from ..tensor import Tensor
from .graph import Node, code_of_dtype


class ExportError(ValueError):
    """The model cannot be written as ONNX: the message names the op or value and why."""


class GraphBuilder:
    def __init__(self, opset, named_tensors):
        self.opset = opset
        self.nodes, self.initializers = [], {}  # [graph.Node], {name: array}
        self.dynamic = False  # the export has dynamic axes (see export_ops._reshape)
        self._names = {}  # id(tensor or array) -> value name
        self._alive = []  # keeps every named object alive, so no id is reused while we build
        self._counter = 0
        self._state_names = {id(t): name for name, t in named_tensors}
        self._state_by_id = {id(t): t for _, t in named_tensors}
        self._state_by_id.update({id(t.array): t for _, t in named_tensors})
        self._state_names.update({id(t.array): name for name, t in named_tensors})

    # ------------------------------------------------------------------ names
    def fresh(self, hint):
        self._counter += 1
        return f"{hint}_{self._counter}"

    def bind(self, value, name):
        """Say that `value` (a Tensor, and its array) is called `name` in the graph."""
        self._alive.append(value)
        self._names[id(value)] = name
        if isinstance(value, Tensor):
            self._names[id(value.array)] = name
            self._alive.append(value.array)

    def known(self, value):
        return id(value) in self._names

    def value(self, value, dtype=None):
        """The graph name of an op input: a traced value, a parameter, or a constant (written once)."""
        name = self._names.get(id(value))
        if name is not None:
            return name
        if id(value) in self._state_names:
            state = self._state_by_id[id(value)]
            name = self._state_names[id(value)]
            self.initializers[name] = np.ascontiguousarray(state.array)
            self.bind(state, name)
            return name
        array = value.array if isinstance(value, Tensor) else np.asarray(value)
        if dtype is not None and array.dtype != dtype and array.dtype.kind in "fiub":
            array = array.astype(dtype)
        name = self.constant(array, "constant")
        if isinstance(value, (Tensor, np.ndarray)):
            self.bind(value, name)
        return name

    def constant(self, array, hint="constant"):
        """A new initializer holding `array`; returns its name."""
        array = np.asarray(array)
        if array.dtype == np.bool_ or array.dtype.kind in "fiu":
            name = self.fresh(hint)
            self.initializers[name] = np.ascontiguousarray(array)
            return name
        raise ExportError(f"cannot write a constant of dtype {array.dtype} to ONNX")

    def ints(self, values, hint="shape"):
        return self.constant(np.asarray(values, dtype=np.int64).reshape(-1), hint)

    # ------------------------------------------------------------------ nodes
    def node(self, op_type, inputs, outputs=1, **attributes):
        """Add a node; returns its output name (or the list of names when outputs > 1). An input of ""
        is an omitted optional input."""
        names = [self.fresh(op_type) for _ in range(outputs)]
        self.nodes.append(Node(op_type, self.fresh(f"node_{op_type}"), inputs, names, attributes))
        return names[0] if outputs == 1 else names

    def output(self, value, name):
        """A graph output named as asked: an Identity from the value that holds it (an output may also be an
        input, a parameter, or the same value as another output)."""
        self.nodes.append(Node("Identity", f"output_{name}", [self.value(value)], [name], {}))

    def reduce(self, op_type, x, axes, keepdims):
        """A Reduce* node over `axes` (None: all). ReduceSum takes axes as an input since opset 13, the
        others since opset 18 (an attribute before)."""
        if axes is None:
            return self.node(op_type, [x], keepdims=int(keepdims))
        axes = [int(a) for a in (axes if isinstance(axes, (tuple, list)) else (axes,))]
        if not axes:  # reducing over no axis is the identity in PyTorch; ONNX would reduce over all
            return self.node("Identity", [x])
        if op_type == "ReduceSum" or self.opset >= 18:
            return self.node(op_type, [x, self.ints(axes, "axes")], keepdims=int(keepdims))
        return self.node(op_type, [x], axes=axes, keepdims=int(keepdims))

    def cast(self, x, dtype):
        return self.node("Cast", [x], to=code_of_dtype(dtype))
