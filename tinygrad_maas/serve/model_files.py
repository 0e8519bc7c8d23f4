"""The two forms a served model takes on disk, read the same way by the repository, export and predict.

    <version>/architecture.json + weights.safetensors     a model saved here (nn/architecture.py)
    <version>/model.onnx                                  an ONNX graph (Triton's layout): ours, PyTorch's, ...
    <version>/model.keras                                 a Keras model's .keras zip (keras/saving.py)
    <version>/text_model.json + a pretrained text folder  a text-embedding model (serve/text_model.py)

A traced graph (tm.jit.trace) is a saved model of the first form whose architecture is the graph.

An ONNX model's (and a traced graph's) signature comes from its graph: its one input and one output, with
-1 for every dimension the graph leaves dynamic. The first dimension must be dynamic, because the server
merges requests into batches along it. Every form is data: JSON, safetensors and ONNX are read, nothing is executed.
"""

import os

from .protocol import datatype_of
from .text_model import TEXT_MODEL_FILE

ONNX_FILE = "model.onnx"
KERAS_FILE = "model.keras"
SAVED_FILES = ("architecture.json", "weights.safetensors")


TEXT_FILES = (TEXT_MODEL_FILE, "config.json", "model.safetensors", "tokenizer.json", "modules.json")


def is_text_model(folder):
    return os.path.isfile(os.path.join(folder, TEXT_MODEL_FILE))


def single_file(path):
    """(kind, file) for a model that is one file: an .onnx or .keras file, or a folder holding model.onnx or
    model.keras; (None, None) for a saved-model folder."""
    for kind, name in (("onnx", ONNX_FILE), ("keras", KERAS_FILE)):
        if str(path).endswith("." + kind):
            return kind, os.fspath(path)
        if os.path.isfile(os.path.join(path, name)):
            return kind, os.path.join(path, name)
    return None, None


def files_of(folder):
    """The files that make up the model in `folder` (what a reload watches)."""
    _, file = single_file(folder)
    names = TEXT_FILES if is_text_model(folder) else SAVED_FILES
    return [file] if file else [os.path.join(folder, name) for name in names]


def weight_bytes(folder, max_architecture_bytes):
    """The memory a model's weights will take, known before they are read."""
    _, file = single_file(folder)
    if file:
        return os.path.getsize(file)  # the weights are nearly the whole file
    if is_text_model(folder):
        return os.path.getsize(os.path.join(folder, "model.safetensors"))
    import math

    from ..nn.architecture import read_saved_model

    _, weights = read_saved_model(folder, max_architecture_bytes)
    return sum(dtype.itemsize * math.prod(shape) for dtype, shape in weights.values())


def read_model(path, max_architecture_bytes, max_onnx_bytes):
    """(module in eval mode, metadata) of the model at `path` (a saved-model folder, a folder holding
    model.onnx, or an .onnx file)."""
    kind, file = single_file(path)
    if kind == "onnx":
        from .. import onnx

        module = onnx.load(file, max_bytes=max_onnx_bytes)
        return module.eval(), {"signature": onnx_signature(module)}
    from .. import keras  # registers keras.Sequential: keras models are saved models too

    if kind == "keras":
        if os.path.getsize(file) > max_onnx_bytes:
            raise ValueError(f"{file} is {os.path.getsize(file)} bytes, over the limit of {max_onnx_bytes}")
        module = keras.models.load_model(file, compile=False)  # serving needs no optimizer
        return module.eval(), module.serving_metadata()
    from ..nn.architecture import load_model
    from ..onnx import GraphModule

    module, metadata = load_model(path, max_architecture_bytes)
    if isinstance(module, GraphModule) and "signature" not in metadata:  # tm.jit.trace: from its graph
        metadata = {**metadata, "signature": onnx_signature(module)}
    return module, metadata


def onnx_signature(module):
    """{"inputs": [...], "outputs": [...]} of a loaded ONNX graph, in the server's signature form."""
    if len(module.input_names) != 1 or len(module.output_names) != 1:
        raise ValueError(
            f"the server takes models with one input and one output; this graph has inputs {module.input_names} "
            f"and outputs {module.output_names}"
        )
    return {
        "inputs": [_spec(module.input_names[0], module.input_types[module.input_names[0]], "input")],
        "outputs": [_spec(module.output_names[0], module.output_types[module.output_names[0]], "output")],
    }


def _spec(name, declared, role):
    dtype, shape = declared
    if dtype is None or shape is None or not shape:
        raise ValueError(f"the graph's {role} {name!r} declares no dtype or no shape with a batch dimension")
    if isinstance(shape[0], int):  # a dynamic dim is a name (str) or None
        raise ValueError(
            f"the graph's {role} {name!r} has a fixed batch size {shape[0]}: export it with a dynamic first "
            f"axis (dynamic_axes={{{name!r}: {{0: 'batch'}}}}) so the server can batch requests"
        )
    return {"name": name, "datatype": datatype_of(dtype), "shape": [n if isinstance(n, int) else -1 for n in shape]}
