"""tm.onnx.load: read an ONNX model safely and run it as a Module on our ops.

    model = tm.onnx.load("model.onnx")       # any file PyTorch, Keras or tm.onnx.export wrote
    y = model(x)                             # the graph's nodes, one tensor op (or a few) each
    model.state_dict()                       # the float initializers, by their ONNX names

Reading checks everything before it allocates or opens anything: the file's size, that it parses as an
ONNX ModelProto, every initializer's dtype and size (from its dims, against its bytes), that external data
stays inside the model's folder and within its file, and that every node's operator is one we run (the
error names the operator and the node). Nothing in the file is executed: a graph is data.

Float initializers become Parameters (trainable: gradients flow through the graph, so an imported model
fine-tunes), nested by the dots in their names as the model's own modules were ("fc.weight" is
`model.fc.weight`). BatchNormalization's statistics become buffers.
"""

import os
import re

import numpy as np

from ..nn.module import Module, Parameter
from ..tensor import Tensor
from .import_layers import LAYER_HANDLERS, STATISTICS_INPUTS
from .import_ops import HANDLERS, Node, OnnxRuntimeError
from .requirement import onnx_package

HANDLERS = {**HANDLERS, **LAYER_HANDLERS}
MAX_MODEL_BYTES = 2**31 - 1  # protobuf's own limit for one message
MAX_TENSOR_BYTES = 2**31


class OnnxLoadError(ValueError):
    """The file is not a model we can run: the message names the file and the problem."""


def load(f, *, max_bytes=MAX_MODEL_BYTES, max_tensor_bytes=MAX_TENSOR_BYTES):
    """An OnnxModule running the model in `f` (a path, bytes, or a ModelProto)."""
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
    return OnnxModule(proto, folder=folder, max_tensor_bytes=max_tensor_bytes, where=where)


class OnnxModule(Module):
    """A Module whose forward runs an ONNX graph. Inputs and outputs in the graph's order."""

    def __init__(self, proto, *, folder=None, max_tensor_bytes=MAX_TENSOR_BYTES, where="the model"):
        super().__init__()
        onnx = onnx_package()
        graph = proto.graph
        self._where = where
        self._opset = _default_opset(proto, where)
        self._nodes = [_node_spec(onnx, node, i, where) for i, node in enumerate(graph.node)]
        statistics = {
            node.input[i] for node in graph.node for i in STATISTICS_INPUTS.get(node.op_type, ()) if i < len(node.input)
        }
        self._constants, self._state = {}, {}
        for initializer in graph.initializer:
            array = _initializer_array(onnx, initializer, folder, max_tensor_bytes, where)
            if array.dtype.kind == "f" and initializer.name not in statistics:
                self._state[initializer.name] = self._attach(initializer.name, Parameter(array))
            elif array.dtype.kind == "f":
                self._state[initializer.name] = self._attach(initializer.name, Tensor(array), buffer=True)
            else:
                self._constants[initializer.name] = Tensor(array)
        known = set(self._state) | set(self._constants)
        self.input_names = [i.name for i in graph.input if i.name not in known]
        self.output_names = [o.name for o in graph.output]
        self.input_types = {i.name: _declared(onnx, i) for i in graph.input if i.name not in known}
        self.output_types = {o.name: _declared(onnx, o) for o in graph.output}
        _check_wiring(self._nodes, set(self.input_names) | known, self.output_names, where)

    def _attach(self, name, tensor, buffer=False):
        """Register under the initializer's dotted name, creating the modules on the way."""
        parts = [_identifier(p) for p in name.split(".")] if _nestable(name) else [_identifier(name)]
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
            node = Node(
                op_type,
                name,
                [values[n] if n else None for n in input_names],
                attributes,
                self._opset,
                len(output_names),
            )
            try:
                result = HANDLERS[op_type](node)
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


def _default_opset(proto, where):
    for entry in proto.opset_import:
        if entry.domain in ("", "ai.onnx"):
            return int(entry.version)
    raise OnnxLoadError(f"{where} imports no version of the standard ONNX operator set")


def _node_spec(onnx, node, index, where):
    name = node.name or f"node {index}"
    if node.domain not in ("", "ai.onnx") or node.op_type not in HANDLERS:
        op = node.op_type if node.domain in ("", "ai.onnx") else f"{node.domain}.{node.op_type}"
        raise OnnxLoadError(
            f"{where}: node {name!r} uses the operator {op}, which tm.onnx does not run (docs/onnx.md lists "
            "the supported operators)"
        )
    attributes = {}
    for attribute in node.attribute:
        if attribute.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS):
            raise OnnxLoadError(f"{where}: node {name!r} ({node.op_type}) has a subgraph, which is not supported")
        value = onnx.helper.get_attribute_value(attribute)
        if isinstance(value, onnx.TensorProto):
            value = onnx.numpy_helper.to_array(value)
        attributes[attribute.name] = value
    return node.op_type, name, list(node.input), list(node.output), attributes


def _initializer_array(onnx, initializer, folder, max_tensor_bytes, where):
    """The initializer's values, after checking its dtype, dims and byte count (and external data's path)."""
    name = initializer.name
    try:
        dtype = np.dtype(onnx.helper.tensor_dtype_to_np_dtype(initializer.data_type))
    except Exception:  # noqa: BLE001 - an unknown or unsupported type code
        raise OnnxLoadError(f"{where}: initializer {name!r} has an unknown data type {initializer.data_type}") from None
    if dtype.kind not in "fiub" or dtype.itemsize > 8:
        raise OnnxLoadError(f"{where}: initializer {name!r} has an unsupported data type {dtype}")
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
    if initializer.HasField("raw_data"):
        if len(initializer.raw_data) != nbytes:
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
        raise OnnxLoadError(
            f"{where}: initializer {name!r} is stored in an external file; load the model from its path"
        )
    target = os.path.realpath(os.path.join(folder, location))
    if (
        not location
        or os.path.isabs(location)
        or os.path.commonpath([target, os.path.realpath(folder)]) != (os.path.realpath(folder))
    ):
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


def _declared(onnx, value_info):
    """(numpy dtype, shape with None for named or unknown dims) of a graph input or output."""
    tensor_type = value_info.type.tensor_type
    dtype = np.dtype(onnx.helper.tensor_dtype_to_np_dtype(tensor_type.elem_type)) if tensor_type.elem_type else None
    shape = None
    if tensor_type.HasField("shape"):
        shape = tuple(d.dim_value if d.HasField("dim_value") else None for d in tensor_type.shape.dim)
    return dtype, shape


def _as_input(value, name, declared):
    dtype, shape = declared
    tensor = value if isinstance(value, Tensor) else Tensor(np.asarray(value))
    if dtype is not None and tensor.dtype != dtype:
        raise TypeError(f"ONNX input {name!r} must be {dtype}, got {tensor.dtype}")
    if shape is not None and (
        len(shape) != tensor.ndim or any(s is not None and s != n for s, n in zip(shape, tensor.shape))
    ):
        wanted = tuple("?" if s is None else s for s in shape)
        raise ValueError(f"ONNX input {name!r} must have shape {wanted}, got {tuple(tensor.shape)}")
    return tensor


def _check_wiring(nodes, available, outputs, where):
    """Every node input is made before it is used (ONNX graphs are topologically sorted), every output made."""
    available = set(available)
    for _, name, input_names, output_names, _ in nodes:
        for value in input_names:
            if value and value not in available:
                raise OnnxLoadError(f"{where}: node {name!r} reads {value!r}, which nothing before it makes")
        available.update(output_names)
    missing = [o for o in outputs if o not in available]
    if missing:
        raise OnnxLoadError(f"{where}: the graph's outputs {missing} are made by no node")


def _nestable(name):
    return all(part and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*|[0-9]+", part) for part in name.split("."))


def _identifier(part):
    part = re.sub(r"\W", "_", part)
    return part if part and not part[0].isdigit() or part.isdigit() else f"_{part}"
