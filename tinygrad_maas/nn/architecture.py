"""A model's architecture as JSON (layer types and their arguments, never code), and a saved model as a
directory: architecture.json + weights.safetensors.

    {"type": "Sequential", "layers": [{"type": "Conv2d", "args": {"in_channels": 1, ...}}, ...]}

Only the layer types in LAYERS can appear; loading looks each name up in that table and calls the class
with the stored arguments, so a model file can describe a network but never run anything else.
"""

import json
import os

from . import activation, conv, dropout, linear, normalization, pooling, sparse
from .containers import Sequential
from ..serialization import load, save

# type name -> (class, the attributes that are its constructor arguments)
LAYERS = {
    "Linear": (linear.Linear, ("in_features", "out_features", "bias")),
    "Conv1d": (conv.Conv1d, ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups",
                             "bias")),
    "Conv2d": (conv.Conv2d, ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups",
                             "bias")),
    "MaxPool1d": (pooling.MaxPool1d, ("kernel_size", "stride", "padding", "dilation", "ceil_mode")),
    "MaxPool2d": (pooling.MaxPool2d, ("kernel_size", "stride", "padding", "dilation", "ceil_mode")),
    "AvgPool2d": (pooling.AvgPool2d, ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad",
                                      "divisor_override")),
    "AdaptiveAvgPool2d": (pooling.AdaptiveAvgPool2d, ("output_size",)),
    "Flatten": (linear.Flatten, ("start_dim", "end_dim")),
    "Unflatten": (linear.Unflatten, ("dim", "unflattened_size")),
    "Identity": (linear.Identity, ()),
    "Dropout": (dropout.Dropout, ("p",)),
    "BatchNorm1d": (normalization.BatchNorm1d, ("num_features", "eps", "momentum", "affine", "track_running_stats")),
    "BatchNorm2d": (normalization.BatchNorm2d, ("num_features", "eps", "momentum", "affine", "track_running_stats")),
    "LayerNorm": (normalization.LayerNorm, ("normalized_shape", "eps", "elementwise_affine")),
    "Embedding": (sparse.Embedding, ("num_embeddings", "embedding_dim", "padding_idx")),
    "ReLU": (activation.ReLU, ()),
    "LeakyReLU": (activation.LeakyReLU, ("negative_slope",)),
    "ELU": (activation.ELU, ("alpha",)),
    "GELU": (activation.GELU, ("approximate",)),
    "SiLU": (activation.SiLU, ()),
    "Sigmoid": (activation.Sigmoid, ()),
    "Tanh": (activation.Tanh, ()),
    "Softplus": (activation.Softplus, ("beta", "threshold")),
    "Softmax": (activation.Softmax, ("dim",)),
    "LogSoftmax": (activation.LogSoftmax, ("dim",)),
}


def _json_value(value):
    return list(value) if isinstance(value, tuple) else value


def to_config(model):
    """The JSON-able description of a Sequential model (or of one supported layer)."""
    if isinstance(model, Sequential):
        return {"type": "Sequential", "layers": [to_config(layer) for layer in model]}
    name = type(model).__name__
    if name not in LAYERS or type(model) is not LAYERS[name][0]:
        raise TypeError(f"to_config(): {name} cannot be described as JSON; supported: Sequential of "
                        f"{', '.join(sorted(LAYERS))}")
    _, arguments = LAYERS[name]
    args = {}
    for argument in arguments:
        value = getattr(model, argument)
        if argument == "bias" and not isinstance(value, bool):
            value = value is not None  # the layer holds the Parameter; the constructor takes a flag
        args[argument] = _json_value(value)
    return {"type": name, "args": args}


def from_config(config):
    """Build the model a config describes (fresh parameters; load weights separately)."""
    if not isinstance(config, dict) or "type" not in config:
        raise ValueError(f"from_config(): expected an object with a 'type', got {str(config):.100}")
    kind = config["type"]
    if kind == "Sequential":
        layers = config.get("layers")
        if not isinstance(layers, list):
            raise ValueError("from_config(): a Sequential needs a list of 'layers'")
        return Sequential(*(from_config(layer) for layer in layers))
    if kind not in LAYERS:
        raise ValueError(f"from_config(): unknown layer type {kind!r}; supported: {', '.join(sorted(LAYERS))}")
    cls, arguments = LAYERS[kind]
    args = config.get("args", {})
    if not isinstance(args, dict) or set(args) - set(arguments):
        raise ValueError(f"from_config(): arguments of {kind} must be among {arguments}, got {args!r:.200}")
    args = {k: tuple(v) if isinstance(v, list) else v for k, v in args.items()}
    return cls(**args)


def save_model(model, directory, metadata=None):
    """Write architecture.json (plus `metadata`, JSON-able) and weights.safetensors into `directory`."""
    os.makedirs(directory, exist_ok=True)
    description = {"format": "tinygrad_maas.model/1", "architecture": to_config(model), "metadata": metadata or {}}
    temporary = os.path.join(directory, ".architecture.json.tmp")
    with open(temporary, "w", encoding="utf-8") as file:
        json.dump(description, file, indent=2)
    save(model.state_dict(), os.path.join(directory, "weights.safetensors"))
    os.replace(temporary, os.path.join(directory, "architecture.json"))  # last: a complete model or none


def load_model(directory):
    """(model in eval mode, metadata) from a directory written by save_model. Only JSON and safetensors
    are read: no pickle, no code."""
    path = os.path.join(directory, "architecture.json")
    if not os.path.exists(path):
        raise FileNotFoundError(f"load_model(): {directory!r} has no architecture.json (not a saved model)")
    with open(path, encoding="utf-8") as file:
        try:
            description = json.load(file)
        except json.JSONDecodeError as error:
            raise ValueError(f"load_model(): {path} is not valid JSON ({error})") from None
    if description.get("format") != "tinygrad_maas.model/1":
        raise ValueError(f"load_model(): {path} has format {description.get('format')!r}, expected "
                         "'tinygrad_maas.model/1'")
    model = from_config(description["architecture"])
    model.load_state_dict(load(os.path.join(directory, "weights.safetensors")))
    return model.eval(), description.get("metadata", {})


__all__ = ["LAYERS", "from_config", "load_model", "save_model", "to_config"]
