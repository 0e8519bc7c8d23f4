"""A model's architecture as JSON (layer types and their arguments, never code), and a saved model as a
directory: architecture.json + weights.safetensors.

    {"type": "Sequential", "layers": [{"type": "Conv2d", "args": {"in_channels": 1, ...}}, ...]}

Only the layer types in LAYERS can appear; loading looks each name up in that table and calls the class
with the stored arguments, so a model file can describe a network but never run anything else.
"""

import inspect
import json
import math
import os

from ..creation import parameter_budget
from ..serialization import atomic_write, load, read_header, save
from . import activation, conv, dropout, linear, normalization, pooling, sparse
from .containers import Sequential

MAX_ARCHITECTURE_BYTES = 1024 * 1024  # a description of layers, not weights: far below this

# type name -> (class, the attributes that are its constructor arguments)
LAYERS = {
    "Linear": (linear.Linear, ("in_features", "out_features", "bias")),
    "Conv1d": (
        conv.Conv1d,
        ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups", "bias"),
    ),
    "Conv2d": (
        conv.Conv2d,
        ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups", "bias"),
    ),
    "MaxPool1d": (pooling.MaxPool1d, ("kernel_size", "stride", "padding", "dilation", "ceil_mode")),
    "MaxPool2d": (pooling.MaxPool2d, ("kernel_size", "stride", "padding", "dilation", "ceil_mode")),
    "AvgPool2d": (
        pooling.AvgPool2d,
        ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad", "divisor_override"),
    ),
    "AdaptiveAvgPool2d": (pooling.AdaptiveAvgPool2d, ("output_size",)),
    "Flatten": (linear.Flatten, ("start_dim", "end_dim")),
    "Unflatten": (linear.Unflatten, ("dim", "unflattened_size")),
    "Identity": (linear.Identity, ()),
    "Dropout": (dropout.Dropout, ("p",)),
    "BatchNorm1d": (
        normalization.BatchNorm1d,
        ("num_features", "eps", "momentum", "affine", "track_running_stats", "bias"),
    ),
    "BatchNorm2d": (
        normalization.BatchNorm2d,
        ("num_features", "eps", "momentum", "affine", "track_running_stats", "bias"),
    ),
    "LayerNorm": (normalization.LayerNorm, ("normalized_shape", "eps", "elementwise_affine", "bias")),
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


# Layer types defined outside nn: their package adds them to LAYERS when imported, which happens here on
# first use, so a saved quantized model loads without the caller importing tinygrad_maas.quantization.
_LAYER_PACKAGES = {
    "DynamicQuantizedLinear": "tinygrad_maas.quantization",
    "StaticQuantizedLinear": "tinygrad_maas.quantization",
    "StaticQuantizedConv2d": "tinygrad_maas.quantization",
}


def _register_layer_type(kind):
    if kind in _LAYER_PACKAGES and kind not in LAYERS:
        import importlib

        importlib.import_module(_LAYER_PACKAGES[kind])


def _json_value(value):
    return list(value) if isinstance(value, tuple) else value


def to_config(model):
    """The JSON-able description of a Sequential model (or of one supported layer)."""
    if isinstance(model, Sequential):
        return {"type": "Sequential", "layers": [to_config(layer) for layer in model]}
    name = type(model).__name__
    _register_layer_type(name)
    if name not in LAYERS or type(model) is not LAYERS[name][0]:
        raise TypeError(
            f"to_config(): {name} cannot be described as JSON; supported: Sequential of {', '.join(sorted(LAYERS))}"
        )
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
    _register_layer_type(kind)
    if kind not in LAYERS:
        raise ValueError(f"from_config(): unknown layer type {kind!r}; supported: {', '.join(sorted(LAYERS))}")
    cls, arguments = LAYERS[kind]
    args = config.get("args", {})
    if not isinstance(args, dict) or set(args) - set(arguments):
        raise ValueError(f"from_config(): arguments of {kind} must be among {arguments}, got {args!r:.200}")
    args = {k: tuple(v) if isinstance(v, list) else v for k, v in args.items()}
    return cls(**args)


def state_shapes(config):
    """{state_dict key: shape} of the model a config describes, computed from the layers' arguments alone
    (nothing is allocated), so a saved model's sizes can be checked against its weights file before the
    layers are built. tests/nn/test_architecture.py pins it to the real layers' state_dicts."""
    shapes = {}
    if isinstance(config, dict) and config.get("type") == "Sequential" and isinstance(config.get("layers"), list):
        for index, layer in enumerate(config["layers"]):
            shapes.update({f"{index}.{key}": shape for key, shape in state_shapes(layer).items()})
        return shapes
    if isinstance(config, dict):
        _register_layer_type(config.get("type"))
    if not isinstance(config, dict) or config.get("type") not in LAYERS:
        from_config(config)  # raises the error that names what is wrong
    cls, _ = LAYERS[config["type"]]
    try:
        args = inspect.signature(cls).bind(**config.get("args", {}))
    except TypeError as error:
        raise ValueError(f"{config['type']}: {error}") from None
    args.apply_defaults()
    return _layer_state_shapes(config["type"], args.arguments)


def _size(value, what):
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{what} must be a non-negative integer, got {value!r:.40}")
    return value


def _sizes(value, count, what):
    values = value if isinstance(value, (list, tuple)) else [value] * count
    if len(values) != count:
        raise ValueError(f"{what} must be one integer or {count} of them, got {value!r:.40}")
    return tuple(_size(v, what) for v in values)


def _layer_state_shapes(kind, a):
    if kind == "Linear":
        out = _size(a["out_features"], "Linear out_features")
        return {
            "weight": (out, _size(a["in_features"], "Linear in_features")),
            **({"bias": (out,)} if a["bias"] else {}),
        }
    if kind == "DynamicQuantizedLinear":  # int8 weight, float32 scale per output channel, float32 bias
        out = _size(a["out_features"], f"{kind} out_features")
        return {
            "weight": (out, _size(a["in_features"], f"{kind} in_features")),
            "scale": (out,),
            **({"bias": (out,)} if a["bias"] else {}),
        }
    if kind == "StaticQuantizedLinear":
        out = _size(a["out_features"], f"{kind} out_features")
        weight = (out, _size(a["in_features"], f"{kind} in_features"))
        return {"weight": weight, "scale": (out,), "input_scale": (), **({"bias": (out,)} if a["bias"] else {})}
    if kind == "StaticQuantizedConv2d":
        out = _size(a["out_channels"], f"{kind} out_channels")
        weight = (out, _size(a["in_channels"], f"{kind} in_channels")) + _sizes(
            a["kernel_size"], 2, f"{kind} kernel_size"
        )
        return {"weight": weight, "scale": (out,), "input_scale": (), **({"bias": (out,)} if a["bias"] else {})}
    if kind in ("Conv1d", "Conv2d"):
        out, groups = _size(a["out_channels"], f"{kind} out_channels"), max(_size(a["groups"], f"{kind} groups"), 1)
        kernel = _sizes(a["kernel_size"], 1 if kind == "Conv1d" else 2, f"{kind} kernel_size")
        weight = (out, _size(a["in_channels"], f"{kind} in_channels") // groups) + kernel
        return {"weight": weight, **({"bias": (out,)} if a["bias"] else {})}
    if kind in ("BatchNorm1d", "BatchNorm2d"):
        n = (_size(a["num_features"], f"{kind} num_features"),)
        affine = {"weight": n, **({"bias": n} if a["bias"] else {})} if a["affine"] else {}
        stats = {"running_mean": n, "running_var": n, "num_batches_tracked": ()} if a["track_running_stats"] else {}
        return {**affine, **stats}
    if kind == "LayerNorm":
        shape = a["normalized_shape"]
        shape = _sizes(shape, len(shape) if isinstance(shape, (list, tuple)) else 1, "LayerNorm normalized_shape")
        return {"weight": shape, **({"bias": shape} if a["bias"] else {})} if a["elementwise_affine"] else {}
    if kind == "Embedding":
        return {
            "weight": (
                _size(a["num_embeddings"], "Embedding num_embeddings"),
                _size(a["embedding_dim"], "Embedding embedding_dim"),
            )
        }
    return {}


# Architecture types beyond nn's own (a Sequential or one layer of LAYERS): type name -> (build(config) ->
# module, state_shapes(config) -> {key: shape}, or None when shapes are known only once built). keras
# registers "keras.Sequential" when imported, so a saved model is one format whichever API made it.
ARCHITECTURES = {}


def register_architecture(type_name, build, shapes=None):
    ARCHITECTURES[type_name] = (build, shapes)


# Architecture types registered by the module that defines them, imported here on first use.
_ARCHITECTURE_MODULES = {
    "tinygrad_maas.graph": "tinygrad_maas.jit",
    "tinygrad_maas.char_lm": "tinygrad_maas.models.causal_lm",
}


def _architecture_functions(architecture):
    kind = architecture.get("type") if isinstance(architecture, dict) else None
    if kind in _ARCHITECTURE_MODULES and kind not in ARCHITECTURES:
        import importlib

        importlib.import_module(_ARCHITECTURE_MODULES[kind])
    if kind in ARCHITECTURES:
        return ARCHITECTURES[kind]
    if isinstance(kind, str) and kind.startswith("keras."):
        raise ValueError(
            f"load_model(): a {kind} was saved by tinygrad_maas.keras; import tinygrad_maas.keras "
            "(or use keras.models.load_model) to load it"
        )
    return from_config, state_shapes


def save_model(model, directory, metadata=None):
    """Write architecture.json (plus `metadata`, JSON-able) and weights.safetensors into `directory`. The
    architecture is the model's own `architecture_config()` where it has one (keras models), else
    to_config's."""
    os.makedirs(directory, exist_ok=True)
    describe = getattr(model, "architecture_config", None)
    architecture = describe() if describe is not None else to_config(model)
    description = {"format": "tinygrad_maas.model/1", "architecture": architecture, "metadata": metadata or {}}
    text = json.dumps(description, indent=2).encode("utf-8")
    save(model.state_dict(), os.path.join(directory, "weights.safetensors"))
    with atomic_write(os.path.join(directory, "architecture.json")) as file:  # last: a complete model or none
        file.write(text)


def read_saved_model(directory, max_architecture_bytes=MAX_ARCHITECTURE_BYTES):
    """(description, {weight name: (dtype, shape)}) of a saved model, checked against each other without
    building it: the architecture's parameter shapes must be exactly those of the weights file's header.
    So a small architecture.json cannot make the loader allocate gigabytes the weights do not hold."""
    path = os.path.join(directory, "architecture.json")
    if not os.path.exists(path):
        raise FileNotFoundError(f"load_model(): {directory!r} has no architecture.json (not a saved model)")
    with open(path, "rb") as file:
        text = file.read(max_architecture_bytes + 1)
    if len(text) > max_architecture_bytes:
        raise ValueError(f"load_model(): {path} is larger than {max_architecture_bytes} bytes")
    try:
        description = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise ValueError(f"load_model(): {path} is not valid JSON ({error})") from None
    if not isinstance(description, dict) or description.get("format") != "tinygrad_maas.model/1":
        found = description.get("format") if isinstance(description, dict) else description
        raise ValueError(f"load_model(): {path} has format {found!r:.60}, expected 'tinygrad_maas.model/1'")
    weights = read_header(os.path.join(directory, "weights.safetensors"))
    _, shapes = _architecture_functions(description.get("architecture"))
    expected = shapes(description.get("architecture")) if shapes is not None else None
    found = {name: shape for name, (_, shape) in weights.items()}
    if expected is not None and expected != found:
        problems = [
            f"{name}: architecture {expected.get(name)}, weights {found.get(name)}"
            for name in sorted(set(expected) | set(found))
            if expected.get(name) != found.get(name)
        ]
        raise ValueError(
            f"load_model(): architecture.json and weights.safetensors disagree: {'; '.join(problems[:5])}"
            + (f" (and {len(problems) - 5} more)" if len(problems) > 5 else "")
        )
    return description, weights


def load_model(directory, max_architecture_bytes=MAX_ARCHITECTURE_BYTES):
    """(model in eval mode, metadata) from a directory written by save_model. Only JSON and safetensors
    are read: no pickle, no code; shapes are checked before anything is allocated (read_saved_model)."""
    description, weights = read_saved_model(directory, max_architecture_bytes)
    build, _ = _architecture_functions(description["architecture"])
    with parameter_budget(sum(math.prod(shape) for _, shape in weights.values())):
        model = build(description["architecture"])  # no more parameters than the weights hold, whatever the type
    model.load_state_dict(load(os.path.join(directory, "weights.safetensors")))
    metadata = description.get("metadata", {})
    return model.eval(), metadata if isinstance(metadata, dict) else {}


__all__ = [
    "LAYERS",
    "from_config",
    "load_model",
    "read_saved_model",
    "register_architecture",
    "save_model",
    "state_shapes",
    "to_config",
]
