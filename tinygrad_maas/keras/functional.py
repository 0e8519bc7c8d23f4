"""Keras' functional API: symbolic tensors, layers called on them, and the graph a Model runs.

    inputs = keras.Input(shape=(None,), dtype="int32")      a KerasTensor: a shape with None for the batch
    x = layers.Embedding(1000, 16)(inputs)                  (and any variable dim), no values
    outputs = layers.Dense(1, activation="sigmoid")(x)
    model = keras.Model(inputs, outputs)

Calling a layer on KerasTensors records a node (the layer and the tensors it was called on) and returns a
KerasTensor of the output's shape. That shape is found the plain way: the layer runs on zeros in eval mode,
twice, with every unknown dim 1 and then 2; a dim that follows is unknown in the output too. (The first
run also builds the layer's weights, as Keras' `build`.) A Model walks the recorded nodes from its outputs
back to its inputs once, and its forward runs them in that order on real tensors; a layer called on two
inputs (a shared layer) is one set of weights in two nodes.
"""

import numpy as np

from ..autograd.grad_mode import no_grad
from ..tensor import Tensor

_INTEGER_DTYPES = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32")


class KerasTensor:
    """A symbolic tensor: shape (None for unknown dims), dtype, and the node that made it."""

    def __init__(self, shape, dtype="float32", node=None, name=None):
        self.shape, self.dtype, self.node, self.name = tuple(shape), dtype, node, name

    @property
    def ndim(self):
        return len(self.shape)

    def __repr__(self):
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype}, name={self.name}>"


def Input(shape=None, batch_size=None, dtype=None, name=None, batch_shape=None):
    """A symbolic input of samples of `shape` (None for a variable dim); dtype float32 unless given."""
    if batch_shape is not None:
        full = tuple(batch_shape)
    elif shape is not None:
        full = (batch_size,) + tuple(shape if isinstance(shape, (tuple, list)) else (shape,))
    else:
        raise ValueError("Input(): give shape= (of one sample, without the batch dim)")
    return KerasTensor(full, str(np.dtype(dtype or "float32")), node=None, name=name or "input_layer")


def is_symbolic(inputs):
    if isinstance(inputs, KerasTensor):
        return True
    return isinstance(inputs, (list, tuple)) and any(isinstance(x, KerasTensor) for x in inputs)


def numpy_dtype(dtype):
    """The array dtype a Keras dtype name computes in: integers as int64 (indices), bool as bool,
    anything else float32."""
    name = str(np.dtype(dtype))
    if name in _INTEGER_DTYPES:
        return np.int64
    return np.bool_ if name == "bool" else np.float32


def _trial(tensor, unknown):
    shape = tuple(unknown if n is None else n for n in tensor.shape)
    return Tensor(np.zeros(shape, dtype=numpy_dtype(tensor.dtype)))


def symbolic_call(layer, inputs, call):
    """layer(inputs) on KerasTensors: build the layer, record the node, return the output KerasTensor(s)."""
    flat = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
    if not all(isinstance(x, KerasTensor) for x in flat):
        raise TypeError(f"{layer.name}: mix of symbolic (keras.Input) and real tensors in one call")
    was_training = layer.training
    layer.eval()
    try:
        with no_grad():
            trials = []
            for unknown in (1, 2):
                values = [_trial(x, unknown) for x in flat]
                trials.append(call(values if isinstance(inputs, (list, tuple)) else values[0]))
    finally:
        layer.train(was_training)
    node = (layer, inputs)
    first, second = trials
    if isinstance(first, (list, tuple)):
        return type(first)(_symbolic_output(a, b, node, layer, i) for i, (a, b) in enumerate(zip(first, second)))
    output = _symbolic_output(first, second, node, layer, None)
    layer.output_shape = output.shape  # for summary(): None where the size depends on the data
    return output


def _symbolic_output(first, second, node, layer, index):
    shape = tuple(a if a == b else None for a, b in zip(first.shape, second.shape))
    kind = first.dtype
    dtype = "float32" if kind.kind == "f" else ("bool" if kind == np.bool_ else "int64")
    return KerasTensor(shape, dtype, node=(node[0], node[1], index), name=layer.name)


def graph_order(inputs, outputs):
    """The nodes between inputs and outputs, each once, in an order where every node comes after the
    nodes that made its inputs; an output that does not depend on the inputs only is an error."""
    order, visited = [], set()
    known = {id(x) for x in inputs}

    def visit(tensor):
        if id(tensor) in known or id(tensor) in visited:
            return
        if tensor.node is None:
            raise ValueError(
                f"keras.Model: an output depends on the Input {tensor.name!r}, which is not among the model's inputs"
            )
        visited.add(id(tensor))
        _, node_inputs, _ = tensor.node
        for x in node_inputs if isinstance(node_inputs, (list, tuple)) else [node_inputs]:
            visit(x)
        order.append(tensor)

    for output in outputs:
        visit(output)
    return order


def run_graph(inputs, order, values):
    """Every tensor of the graph computed from `values` (real tensors, one per input): {id: value}."""
    computed = {id(x): v for x, v in zip(inputs, values)}
    calls = {}  # one call per (layer, inputs) node, even when it has several outputs
    for tensor in order:
        layer, node_inputs, index = tensor.node
        key = (id(layer), id(node_inputs))
        if key not in calls:
            if isinstance(node_inputs, (list, tuple)):
                arguments = [computed[id(x)] for x in node_inputs]
            else:
                arguments = computed[id(node_inputs)]
            calls[key] = layer(arguments)
        result = calls[key]
        computed[id(tensor)] = result if index is None else result[index]
    return computed
