"""ONNX, the ecosystem's model interchange format, both ways.

    tm.onnx.export(model, (example,), "model.onnx", input_names=["x"], dynamic_axes={"x": {0: "batch"}})
    imported = tm.onnx.load("model.onnx")        # a Module: runs the graph on our ops, gradients included

export traces one forward pass through the op layer (as PyTorch's tracer does: Python control flow is
resolved at trace time) into a Graph (graph.py, builder.py), each recorded op written as standard ONNX
nodes (export_ops.py), and writes it as an .onnx file (proto.py). load reads a file safely into a Graph and
runs it as a GraphModule (runner.py) whose nodes run on our tensor ops (import_ops.py, import_layers.py).
tm.jit saves the same Graph as JSON + safetensors, without the onnx package. Reading and writing .onnx
files needs the `onnx` package (the `onnx` extra); docs/onnx.md lists the ops supported each way.
"""

from .export import export
from .proto import load
from .runner import GraphModule

__all__ = ["export", "load", "GraphModule"]
