"""tm.onnx.export: trace one forward pass of any Module and write it as an ONNX graph.

    tm.onnx.export(model, (x,), "model.onnx", input_names=["x"], output_names=["logits"],
                   dynamic_axes={"x": {0: "batch"}, "logits": {0: "batch"}})

The arguments are PyTorch's (torch.onnx.export). The trace and its checks are tracer.py's; here the graph
is written as a ModelProto, checked by onnx.checker (with shape inference), read back as any .onnx file is
read, and verified on our ops before the file is written (atomically, for a path).
"""

import os

from ..serialization import atomic_write
from .proto import MAX_TENSOR_BYTES, from_proto, to_proto
from .requirement import onnx_package
from .runner import GraphModule
from .tracer import DEFAULT_OPSET, trace_graph
from .tracer import verify as verify_graph


def export(
    model,
    args,
    f,
    *,
    input_names=None,
    output_names=None,
    dynamic_axes=None,
    opset_version=None,
    do_constant_folding=True,
    export_params=True,
    verbose=False,
    keep_initializers_as_inputs=False,
    dynamo=None,
    external_data=True,
    optimize=True,
    verify=True,
    **unsupported,
):
    """Trace `model(*args)` and write it to `f` (a path or a binary file object). Returns the ModelProto.

    dynamic_axes maps an input or output name to {axis: "name"} (or a list of axes), as PyTorch's. The
    opset is 18 unless opset_version says otherwise (17 or newer). Accepted for PyTorch's signature, with
    nothing to choose here: do_constant_folding and optimize (values that do not depend on the inputs are
    constants in a trace already), dynamo (there is one tracer), verify (the graph is always verified),
    external_data (the weights are written inside the file)."""
    if keep_initializers_as_inputs:
        raise ValueError("tm.onnx.export(keep_initializers_as_inputs=True) is not supported")
    onnx = onnx_package()
    if unsupported:
        raise TypeError(f"tm.onnx.export(): unsupported arguments {sorted(unsupported)}")
    if not export_params:
        raise ValueError("tm.onnx.export(export_params=False) is not supported: the weights are always written")
    opset = DEFAULT_OPSET if opset_version is None else int(opset_version)
    newest = onnx.defs.onnx_opset_version()
    if not 17 <= opset <= newest:
        raise ValueError(f"tm.onnx.export(): opset_version must be 17 to {newest}, got {opset}")
    graph, examples, outputs = trace_graph(model, args, input_names, output_names, dynamic_axes, opset, "onnx.export")
    proto = to_proto(onnx, graph)
    onnx.checker.check_model(proto, full_check=True)
    data = proto.SerializeToString()
    written = onnx.ModelProto.FromString(data)  # verify what a reader of the file will see
    graph_module = GraphModule(from_proto(onnx, written, None, MAX_TENSOR_BYTES, "the export"), "the export")
    graph_module.dynamic_axes = graph.dynamic_axes
    verify_graph(graph_module, model, graph, examples, outputs, "onnx.export")
    if verbose:
        print(onnx.helper.printable_graph(proto.graph))
    if isinstance(f, (str, os.PathLike)):
        with atomic_write(f) as file:
            file.write(data)
    else:
        f.write(data)
    return proto
