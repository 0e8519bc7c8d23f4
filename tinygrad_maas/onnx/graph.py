"""Graph: a traced model as data, in ONNX's operator vocabulary, independent of any file format.

    nodes         [Node(op_type, name, inputs, outputs, attributes)], in the order they run
    initializers  {name: ndarray}: weights and constants
    inputs        [(name, dtype, shape)], shape entries an int, or a str / None for a dynamic dim
    outputs       the same for what the graph returns
    opset         the version of ONNX's standard operators the nodes follow

Export builds one (builder.py) and writes it as an .onnx file (proto.py) or, without the onnx package, as
tm.jit's JSON + safetensors (tinygrad_maas/jit.py); loading either gives one back, and GraphModule
(runner.py) runs it. One graph form, two file formats, one runner.
"""

import numpy as np

# ONNX's TensorProto data type codes (onnx.proto3), for the dtypes this framework computes in.
TENSOR_TYPES = {
    1: np.float32,
    2: np.uint8,
    3: np.int8,
    4: np.uint16,
    5: np.int16,
    6: np.int32,
    7: np.int64,
    9: np.bool_,
    10: np.float16,
    11: np.float64,
    12: np.uint32,
    13: np.uint64,
}
TYPE_CODES = {np.dtype(t): code for code, t in TENSOR_TYPES.items()}


def dtype_of_code(code, where):
    if code not in TENSOR_TYPES:
        raise ValueError(f"{where}: unsupported tensor data type code {code!r}")
    return np.dtype(TENSOR_TYPES[code])


def code_of_dtype(dtype):
    dtype = np.dtype(dtype)
    if dtype not in TYPE_CODES:
        raise ValueError(f"no ONNX tensor type for dtype {dtype}")
    return TYPE_CODES[dtype]


class Node:
    __slots__ = ("op_type", "name", "inputs", "outputs", "attributes")

    def __init__(self, op_type, name, inputs, outputs, attributes):
        self.op_type, self.name = op_type, name
        self.inputs, self.outputs, self.attributes = list(inputs), list(outputs), dict(attributes)


class Graph:
    def __init__(self, nodes, initializers, inputs, outputs, opset, name="graph"):
        self.nodes, self.initializers = nodes, initializers
        self.inputs, self.outputs, self.opset, self.name = inputs, outputs, int(opset), name
