"""ONNX, the ecosystem's model interchange format, both ways.

    tm.onnx.export(model, (example,), "model.onnx", input_names=["x"], dynamic_axes={"x": {0: "batch"}})
    imported = tm.onnx.load("model.onnx")        # a Module: runs the graph on our ops, gradients included

export traces one forward pass through the op layer (as PyTorch's tracer does: Python control flow is
resolved at trace time) and writes each recorded op as standard ONNX nodes (export_ops.py). load reads a
graph safely (load.py: size limits, no external data outside the model's folder, nothing executed) and runs
its nodes with our tensor ops (import_ops.py). Both need the `onnx` package (the `onnx` extra); docs/onnx.md
lists the ops supported each way.
"""

from .export import export
from .load import OnnxModule, load

__all__ = ["export", "load", "OnnxModule"]
