"""ONNX files: tm.onnx.load reads one safely into a Graph and a GraphModule; export writes a Graph as one.

    model = tm.onnx.load("model.onnx")       # any file PyTorch, Keras or tm.onnx.export wrote
    y = model(x)                             # a GraphModule (runner.py): our ops, gradients included

Reading checks everything before it allocates or opens anything: the file's size, that it parses as an
ONNX ModelProto, every initializer's dtype and size (from its dims, against its bytes), that external data
stays inside the model's folder and within its file, and that every node's operator is one we run (the
error names the operator and the node). Nothing in the file is executed: a graph is data. The `onnx`
package (the `onnx` extra) parses and writes the protobuf.
"""

import os

import numpy as np

from .graph import Graph, Node, code_of_dtype, dtype_of_code
from .requirement import onnx_package
from .runner import GraphError, GraphModule

MAX_MODEL_BYTES = 2**31 - 1  # protobuf's own limit for one message
MAX_TENSOR_BYTES = 2**31


class OnnxLoadError(GraphError):
    """The file is not a model we can run: the message names the file and the problem."""


def load(f, *, max_bytes=MAX_MODEL_BYTES, max_tensor_bytes=MAX_TENSOR_BYTES):
    """A GraphModule running the model in `f` (a path, bytes, or an onnx.ModelProto)."""
    onnx = onnx_package()
    folder, where = None, "the model"
    if isinstance(f, (str, os.PathLike)):
        path = os.fspath(f)
        where = repr(path)
        size = os.path.getsize(path)
        if size > max_bytes:
            raise OnnxLoadError(f"{where} is {size} bytes, over the limit of {max_bytes}")
        with open(path, "rb") as file:
            f = file.read()
        folder = os.path.dirname(os.path.abspath(path))
    if isinstance(f, (bytes, bytearray)):
        if len(f) > max_bytes:
            raise OnnxLoadError(f"{where} is {len(f)} bytes, over the limit of {max_bytes}")
        proto = onnx.ModelProto()
        try:
            proto.ParseFromString(bytes(f))
        except Exception as error:  # noqa: BLE001 - protobuf's DecodeError, or anything a garbage file raises
            raise OnnxLoadError(f"{where} is not an ONNX model (it does not parse: {error})") from None
        if not proto.HasField("graph") or not proto.graph.node:
            raise OnnxLoadError(f"{where} is not an ONNX model (no graph with nodes)")
    elif isinstance(f, onnx.ModelProto):
        proto = f
    else:
        raise TypeError(f"tm.onnx.load(): expected a path, bytes or a ModelProto, got {type(f).__name__}")
    return GraphModule(from_proto(onnx, proto, folder, max_tensor_bytes, where), where)


def from_proto(onnx, proto, folder, max_tensor_bytes, where):
    """The Graph of a ModelProto, every initializer and node checked."""
    graph = proto.graph
    nodes = [_node(onnx, node, i, where) for i, node in enumerate(graph.node)]
    initializers = {t.name: _initializer_array(onnx, t, folder, max_tensor_bytes, where) for t in graph.initializer}
    inputs = [_declared(v, where) for v in graph.input]
    outputs = [_declared(v, where) for v in graph.output]
    return Graph(nodes, initializers, inputs, outputs, _default_opset(proto, where), graph.name or "graph")


def to_proto(onnx, graph):
    """The ModelProto of a Graph (for export)."""
    h = onnx.helper
    value_info = lambda name, dtype, shape: h.make_tensor_value_info(name, code_of_dtype(dtype), shape)
    proto_graph = h.make_graph(
        [h.make_node(n.op_type, n.inputs, n.outputs, name=n.name, **n.attributes) for n in graph.nodes],
        graph.name,
        [value_info(*entry) for entry in graph.inputs],
        [value_info(*entry) for entry in graph.outputs],
        initializer=[onnx.numpy_helper.from_array(array, name) for name, array in graph.initializers.items()],
    )
    proto = h.make_model(proto_graph, opset_imports=[h.make_opsetid("", graph.opset)], producer_name="tinygrad_maas")
    proto.ir_version = min(proto.ir_version, 10)  # what onnxruntime and Triton releases of 2025-26 read
    return proto


def _default_opset(proto, where):
    for entry in proto.opset_import:
        if entry.domain in ("", "ai.onnx"):
            return int(entry.version)
    raise OnnxLoadError(f"{where} imports no version of the standard ONNX operator set")


def _node(onnx, node, index, where):
    name = node.name or f"node {index}"
    if node.domain not in ("", "ai.onnx"):
        raise OnnxLoadError(
            f"{where}: node {name!r} uses the operator {node.domain}.{node.op_type}, which tm.onnx does not run "
            "(only the standard ONNX operators; docs/onnx.md lists them)"
        )
    attributes = {}
    for attribute in node.attribute:
        if attribute.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS):
            raise OnnxLoadError(f"{where}: node {name!r} ({node.op_type}) has a subgraph, which is not supported")
        value = onnx.helper.get_attribute_value(attribute)
        if isinstance(value, onnx.TensorProto):
            value = onnx.numpy_helper.to_array(value)
        attributes[attribute.name] = value
    return Node(node.op_type, name, node.input, node.output, attributes)


def _initializer_array(onnx, initializer, folder, max_tensor_bytes, where):
    """The initializer's values, after checking its dtype, dims and byte count (and external data's path)."""
    name = initializer.name
    try:
        dtype = dtype_of_code(initializer.data_type, f"{where}: initializer {name!r}")
    except ValueError as error:
        raise OnnxLoadError(str(error)) from None
    dims = list(initializer.dims)
    if any(d < 0 for d in dims):
        raise OnnxLoadError(f"{where}: initializer {name!r} has negative dims {dims}")
    count = 1
    for d in dims:
        count *= d
    nbytes = count * dtype.itemsize
    if nbytes > max_tensor_bytes:
        raise OnnxLoadError(
            f"{where}: initializer {name!r} of shape {dims} would take {nbytes} bytes, over the limit of "
            f"{max_tensor_bytes}"
        )
    if initializer.data_location == onnx.TensorProto.EXTERNAL:
        raw = _external_bytes(initializer, folder, nbytes, where)
        return np.frombuffer(raw, dtype=dtype.newbyteorder("<")).astype(dtype).reshape(dims)
    if initializer.HasField("raw_data") and len(initializer.raw_data) != nbytes:
        raise OnnxLoadError(
            f"{where}: initializer {name!r} of shape {dims} ({dtype}) needs {nbytes} bytes, holds "
            f"{len(initializer.raw_data)}"
        )
    array = onnx.numpy_helper.to_array(initializer)
    if array.size != count:
        raise OnnxLoadError(f"{where}: initializer {name!r} holds {array.size} values, its dims {dims} say {count}")
    return np.array(array, dtype=dtype).reshape(dims)


def _external_bytes(initializer, folder, nbytes, where):
    """Bytes of an initializer stored beside the model: only a relative path inside the model's folder."""
    info = {entry.key: entry.value for entry in initializer.external_data}
    location = info.get("location", "")
    name = initializer.name
    if folder is None:
        raise OnnxLoadError(f"{where}: initializer {name!r} is in an external file; load the model from its path")
    root = os.path.realpath(folder)
    target = os.path.realpath(os.path.join(folder, location))
    if not location or os.path.isabs(location) or os.path.commonpath([target, root]) != root:
        raise OnnxLoadError(
            f"{where}: initializer {name!r} points to external data {location!r} outside the model's folder"
        )
    offset, length = int(info.get("offset", 0)), int(info.get("length", nbytes))
    if not os.path.isfile(target):
        raise OnnxLoadError(f"{where}: the external data file {location!r} of initializer {name!r} is missing")
    if length != nbytes or offset < 0 or offset + length > os.path.getsize(target):
        raise OnnxLoadError(
            f"{where}: initializer {name!r} needs {nbytes} bytes at offset {offset} of {location!r}, which the "
            "file does not hold"
        )
    with open(target, "rb") as file:
        file.seek(offset)
        return file.read(length)


def _declared(value_info, where):
    """(name, numpy dtype or None, shape with a str or None for dynamic dims, or None) of an input/output."""
    tensor_type = value_info.type.tensor_type
    dtype = None
    if tensor_type.elem_type:
        try:
            dtype = dtype_of_code(tensor_type.elem_type, f"{where}: {value_info.name!r}")
        except ValueError as error:
            raise OnnxLoadError(str(error)) from None
    shape = None
    if tensor_type.HasField("shape"):
        shape = tuple(d.dim_value if d.HasField("dim_value") else (d.dim_param or None) for d in tensor_type.shape.dim)
    return value_info.name, dtype, shape
