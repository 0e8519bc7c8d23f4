"""model.save("m.keras") and keras.models.load_model("m.keras"): one zip file, as Keras 3 writes, of data only.

    metadata.json               {"keras_version": ..., "format": "tinygrad_maas.keras/3", "date_saved": ...}
    config.json                 the architecture and the compile arguments (JSON: layer types, arguments)
    model.weights.safetensors   every weight (Keras writes model.weights.h5; HDF5 is not read or written here)
    optimizer.safetensors       the optimizer's state, once the model has trained

config.json, as Keras' {"class_name", "config", "compile_config"}:

    Sequential   {"name", "input_shape", "layers": [{"class_name": "Dense", "config": {...}}, ...]}
    Functional   {"name", "inputs": [{"name", "shape", "dtype"}], "layers": [{"class_name", "config"}],
                  "nodes": [{"layer": 1, "inputs": ["input:0"], "index": null}, ...], "outputs": ["node:3"]}
                 each node one symbolic tensor in graph order: the layer (an index into layers, so a shared
                 layer appears once) called on earlier tensors ("input:i" or "node:j"), output `index` of
                 a layer that returns several
    compile      {"optimizer": "adam" | {"class_name": "Adam", "config": {...}}, "loss": ..., "metrics": [...],
                  "loss_weights": ...}; null when compile() was given something that is not data (a Python
                  function), with a warning at save: load_model then returns the model uncompiled

Loading reads only these members, each within a size limit checked before it is read; layers come from the
fixed table of keras layer types and losses, metrics and optimizers from theirs: nothing is executed.
"""

import io
import json
import os
import time
import warnings
import zipfile

import numpy as np

from ..creation import parameter_budget
from ..serialization import atomic_write, load, save
from . import functional, losses, metrics, optimizers

FORMAT = "tinygrad_maas.keras/3"
MAX_CONFIG_BYTES = 1024 * 1024
MAX_WEIGHTS_BYTES = 2**34
_MEMBERS = {"metadata.json", "config.json", "model.weights.safetensors", "optimizer.safetensors"}


def save_model(model, filepath):
    """Write `model` (Sequential or functional) to the .keras zip at filepath, atomically."""
    config = {"class_name": "Sequential" if model._graph is None else "Functional", "config": _architecture(model)}
    config["compile_config"] = _compile_config(model)
    metadata = {"keras_version": "3 (tinygrad_maas)", "format": FORMAT, "date_saved": time.ctime()}
    members = {
        "metadata.json": json.dumps(metadata),
        "config.json": json.dumps(config, indent=1),
        "model.weights.safetensors": _tensors(model.state_dict()),
    }
    if model.compiled and model.optimizer is not None and config["compile_config"] is not None:
        members["optimizer.safetensors"] = _tensors(model.optimizer.state_dict())
    with atomic_write(filepath) as file:
        with zipfile.ZipFile(file, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, content in members.items():
                archive.writestr(name, content)


def load_model(filepath, compile=True):
    """The model in the .keras zip at filepath, compiled as it was saved (optimizer state included)."""
    from .models import Model, from_config

    where = repr(os.fspath(filepath))
    try:
        archive = zipfile.ZipFile(filepath)
    except zipfile.BadZipFile:
        raise ValueError(f"load_model(): {where} is not a .keras file (not a zip archive)") from None
    with archive:
        names = set(archive.namelist())
        if not {"config.json", "model.weights.safetensors"} <= names or not names <= _MEMBERS:
            raise ValueError(
                f"load_model(): {where} is not a tinygrad_maas .keras file: it holds {sorted(names)[:8]}, expected "
                f"config.json and model.weights.safetensors (a .keras file of Keras itself holds HDF5 weights, "
                "which are not read here)"
            )
        config = _json(_read(archive, "config.json", MAX_CONFIG_BYTES, where), "config.json", where)
        state = load(io.BytesIO(_read(archive, "model.weights.safetensors", MAX_WEIGHTS_BYTES, where)))
        optimizer_state = None
        if "optimizer.safetensors" in names:
            optimizer_state = load(io.BytesIO(_read(archive, "optimizer.safetensors", MAX_WEIGHTS_BYTES, where)))
    if not isinstance(config, dict) or config.get("class_name") not in ("Sequential", "Functional"):
        raise ValueError(f"load_model(): {where}: config.json must describe a Sequential or Functional model")
    with parameter_budget(sum(int(np.prod(t.shape)) for t in state.values())):
        if config["class_name"] == "Sequential":
            model = from_config(config.get("config") or {})
        else:
            model = _functional_from_config(config.get("config"), Model, where)
    model.load_state_dict(state)
    compile_config = config.get("compile_config")
    if compile and compile_config is not None:
        model.compile(**_compile_arguments(compile_config, where))
        if optimizer_state is not None:
            model._ensure_optimizer().load_state_dict(optimizer_state)
    return model


# ---------------------------------------------------------------------- the architecture
def _architecture(model):
    if model._graph is None:
        return model.get_config()
    inputs, outputs, order = model._graph
    layers, layer_index = [], {}
    refs = {id(x): f"input:{i}" for i, x in enumerate(inputs)}
    nodes = []
    for j, tensor in enumerate(order):
        layer, node_inputs, index = tensor.node
        if id(layer) not in layer_index:
            layer_index[id(layer)] = len(layers)
            layers.append({"class_name": type(layer).__name__, "config": layer.get_config()})
        many = isinstance(node_inputs, (list, tuple))
        called_on = [refs[id(x)] for x in node_inputs] if many else refs[id(node_inputs)]
        nodes.append({"layer": layer_index[id(layer)], "inputs": called_on, "index": index})
        refs[id(tensor)] = f"node:{j}"
    return {
        "name": model.name,
        "inputs": [{"name": x.name, "shape": list(x.shape[1:]), "dtype": x.dtype} for x in inputs],
        "layers": layers,
        "nodes": nodes,
        "outputs": [refs[id(x)] for x in outputs],
        "multiple_inputs": bool(model._multiple_inputs),
        "multiple_outputs": bool(model._multiple_outputs),
    }


def _functional_from_config(config, model_class, where):
    from .layers import LAYER_TYPES

    if not isinstance(config, dict):
        raise ValueError(f"load_model(): {where}: a Functional config must be an object")
    inputs = [
        functional.Input(shape=tuple(entry["shape"]), dtype=entry["dtype"], name=entry["name"])
        for entry in _list(config, "inputs", where)
    ]
    layers = []
    for entry in _list(config, "layers", where):
        kind = entry.get("class_name") if isinstance(entry, dict) else None
        if kind not in LAYER_TYPES:
            raise ValueError(f"load_model(): {where}: unknown keras layer type {kind!r}")
        layers.append(LAYER_TYPES[kind](**(entry.get("config") or {})))
    tensors, calls = {f"input:{i}": x for i, x in enumerate(inputs)}, {}
    for j, node in enumerate(_list(config, "nodes", where)):
        called_on = node.get("inputs") if isinstance(node, dict) else None
        refs = called_on if isinstance(called_on, list) else [called_on]
        layer = node.get("layer")
        if not isinstance(layer, int) or not 0 <= layer < len(layers) or not all(r in tensors for r in refs):
            raise ValueError(f"load_model(): {where}: node {j} calls a layer or reads a tensor that does not exist")
        key = (layer, json.dumps(called_on))
        if key not in calls:  # one call per (layer, inputs): a layer with several outputs is called once
            arguments = [tensors[r] for r in refs] if isinstance(called_on, list) else tensors[called_on]
            calls[key] = layers[layer](arguments)
        result, index = calls[key], node.get("index")
        tensors[f"node:{j}"] = result if index is None else result[index]
    outputs = [tensors[r] for r in _list(config, "outputs", where) if r in tensors]
    if len(outputs) != len(config["outputs"]) or not outputs:
        raise ValueError(f"load_model(): {where}: the model's outputs name tensors that do not exist")
    return model_class(
        inputs if config.get("multiple_inputs") else inputs[0],
        outputs if config.get("multiple_outputs") else outputs[0],
        name=config.get("name"),
    )


def _list(config, key, where):
    value = config.get(key)
    if not isinstance(value, list):
        raise ValueError(f"load_model(): {where}: config field {key!r} must be a list")
    return value


# ---------------------------------------------------------------------- compile arguments as data
def _compile_config(model):
    if not model.compiled:
        return None
    spec = model._compile_arguments
    try:
        return {
            "optimizer": _optimizer_config(spec["optimizer"]),
            "loss": _each(spec["loss"], _loss_config),
            "metrics": [_metric_config(m) for m in spec["metrics"] or []],
            "loss_weights": spec["loss_weights"],
        }
    except TypeError as error:
        warnings.warn(
            f"{model.name}: the compile arguments are not saved ({error}); load_model will return the model "
            "uncompiled: compile it again after loading",
            stacklevel=3,
        )
        return None


def _each(value, convert):
    return [convert(v) for v in value] if isinstance(value, (list, tuple)) else convert(value)


def _optimizer_config(optimizer):
    if isinstance(optimizer, str):
        return optimizer
    if isinstance(optimizer, optimizers.OptimizerFactory):
        return {"class_name": optimizer.class_name, "config": optimizer.get_config()}
    raise TypeError(f"the optimizer {optimizer!r} is not a keras optimizer name or keras.optimizers object")


def _loss_config(loss):
    if isinstance(loss, str):
        return loss
    if isinstance(loss, losses.Loss) and type(loss).__name__ in _LOSS_CLASSES:
        return {"class_name": type(loss).__name__, "config": {"from_logits": loss.from_logits, "name": loss.name}}
    if getattr(losses, getattr(loss, "__name__", ""), None) is loss:  # keras.losses.binary_crossentropy
        return loss.__name__
    raise TypeError(f"the loss {loss!r} is a function of yours; only keras loss names and objects are data")


def _metric_config(metric):
    if isinstance(metric, str):
        return metric
    if isinstance(metric, metrics.Metric) and type(metric).__name__ in _METRIC_CLASSES:
        return {"class_name": type(metric).__name__, "config": {"name": metric.name, **metric.options}}
    raise TypeError(f"the metric {metric!r} is not a keras metric name or keras.metrics object")


_LOSS_CLASSES = {c.__name__: c for c in vars(losses).values() if isinstance(c, type) and issubclass(c, losses.Loss)}
_METRIC_CLASSES = {
    c.__name__: c for c in vars(metrics).values() if isinstance(c, type) and issubclass(c, metrics.Metric)
}


def _compile_arguments(config, where):
    """compile()'s arguments from a compile config: names, or objects of the fixed keras tables."""

    def build(entry, table, kind):
        if isinstance(entry, str):
            return entry
        name = entry.get("class_name") if isinstance(entry, dict) else None
        if name not in table:
            raise ValueError(f"load_model(): {where}: unknown {kind} {name!r} in compile_config")
        return table[name](**(entry.get("config") or {}))

    if not isinstance(config, dict):
        raise ValueError(f"load_model(): {where}: compile_config must be an object")
    loss = config.get("loss")
    return {
        "optimizer": build(config.get("optimizer"), optimizers.FACTORIES, "optimizer"),
        "loss": [build(x, _LOSS_CLASSES, "loss") for x in loss]
        if isinstance(loss, list)
        else build(loss, _LOSS_CLASSES, "loss"),
        "metrics": [build(m, _METRIC_CLASSES, "metric") for m in config.get("metrics") or []],
        "loss_weights": config.get("loss_weights"),
    }


# ---------------------------------------------------------------------- zip members
def _tensors(state):
    buffer = io.BytesIO()
    save(state, buffer)
    return buffer.getvalue()


def _read(archive, name, limit, where):
    info = archive.getinfo(name)
    if info.file_size > limit:
        raise ValueError(f"load_model(): {where}: {name} is {info.file_size} bytes, over the limit of {limit}")
    with archive.open(info) as member:
        content = member.read(limit + 1)  # the declared size may lie: never read past the limit
    if len(content) > limit:
        raise ValueError(f"load_model(): {where}: {name} is larger than the limit of {limit} bytes")
    return content


def _json(content, name, where):
    try:
        return json.loads(content)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise ValueError(f"load_model(): {where}: {name} is not valid JSON ({error})") from None
