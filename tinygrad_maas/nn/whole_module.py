"""tm.save(model) of a whole Module, and its load, without pickle: the module tree as data.

PyTorch pickles the model object, and loading a pickle can run any code the file names. Here the file
holds data only (serialization.py): for each module in the tree its class, as "package.module:QualName",
its plain attributes (numbers, strings, None, tuples, lists and dicts of them, dtypes, devices, and
functions and classes named the same way), its parameters and buffers (tensors in the safetensors part)
and its children. Loading rebuilds the tree the way unpickling does, without calling __init__: the class
is looked up by name, a bare instance gets Module's registries, and everything recorded is put back. A
module or tensor that appears twice (tied weights) is rebuilt once and shared again.

Looking a class up by name imports its module, which runs that module's code, so it happens only when the
caller allows it, as in PyTorch: `tm.load(path, weights_only=False)` (the caller trusts the file), or for
classes named in `tm.serialization.safe_globals([...])` / `add_safe_globals([...])`. Under the default
weights_only=True, any other class is refused with an error that names it and says how to save a
state_dict instead.
"""

import importlib
import types

import numpy as np

from .. import dtypes
from ..device import device as _device
from .module import Module, Parameter

_SKIPPED = frozenset(
    ("_parameters", "_buffers", "_modules", "_non_persistent_buffers", "_forward_pre_hooks", "_forward_hooks")
    + ("_backward_hooks", "training")
)


def qualified_name(obj):
    return f"{obj.__module__}:{obj.__qualname__}"


def encode(module, encode_value, path):
    """The record of a module; `encode_value(value, path)` encodes tensors and plain values."""
    attributes = []
    for name, value in module.__dict__.items():
        if name not in _SKIPPED:
            attributes.append([name, _encode_attribute(value, encode_value, f"{path}.{name}", module)])
    parameters = [
        [n, None if p is None else encode_value(p, f"{path}.{n}"), p is not None and p.requires_grad]
        for n, p in module._parameters.items()
    ]
    buffers = [
        [n, None if b is None else encode_value(b, f"{path}.{n}"), n not in module._non_persistent_buffers]
        for n, b in module._buffers.items()
    ]
    children = [[n, None if m is None else encode_value(m, f"{path}.{n}")] for n, m in module._modules.items()]
    return {
        "class": qualified_name(type(module)),
        "training": module.training,
        "attributes": attributes,
        "parameters": parameters,
        "buffers": buffers,
        "children": children,
    }


def _encode_attribute(value, encode_value, path, module):
    if isinstance(value, np.dtype):
        return {"dtype": str(value)}
    if type(value).__name__ == "device" and hasattr(value, "type") and hasattr(value, "index"):
        return {"device": str(value)}
    if isinstance(value, (types.FunctionType, types.BuiltinFunctionType, type)):
        name = qualified_name(value)
        if "<" in name or _lookup(name) is not value:
            raise TypeError(
                f"tm.save(): {type(module).__name__}.{path.rsplit('.', 1)[-1]} holds {value!r}, which cannot be "
                "found again by its name (a lambda or a local function); use a module-level function, or save "
                "the state_dict"
            )
        return {"global": name}
    try:
        return encode_value(value, path)
    except TypeError:
        raise TypeError(
            f"tm.save(): {type(module).__name__}.{path.rsplit('.', 1)[-1]} holds a {type(value).__name__}, which "
            "a model file cannot hold as data; save model.state_dict() instead"
        ) from None


def _lookup(name):
    module_name, _, qualname = name.partition(":")
    target = importlib.import_module(module_name)
    for part in qualname.split("."):
        target = getattr(target, part)
    return target


class Globals:
    """Which classes and functions a load may look up by name: all (weights_only=False) or an allowlist."""

    def __init__(self, everything, allowed, where):
        self.everything, self.allowed, self.where = everything, allowed, where

    def resolve(self, name):
        if not isinstance(name, str) or ":" not in name:
            raise ValueError(f"{self.where}: corrupt model record (class name {name!r:.80})")
        if not self.everything and name not in self.allowed:
            raise RuntimeError(
                f"{self.where}: the file holds a whole model whose code is {name.replace(':', '.')}; loading it "
                "needs weights_only=False (only for files you trust: it imports that class's module), or "
                "tm.serialization.safe_globals([that class]). Better: save model.state_dict() and load it "
                "into a model you build with load_state_dict()"
            )
        try:
            return _lookup(name)
        except (ImportError, AttributeError) as error:
            raise RuntimeError(f"{self.where}: cannot find {name.replace(':', '.')} ({error})") from None


def decode(record, decode_value, globals_, where, path, built):
    """The module rebuilt from its record at `path`; `decode_value(node, path)` decodes tensors, values and
    children. The module is entered in `built` before its children, so references to it resolve."""
    cls = globals_.resolve(record.get("class"))
    if not (isinstance(cls, type) and issubclass(cls, Module)):
        raise RuntimeError(f"{where}: {record.get('class')} is not an nn.Module subclass")
    module = cls.__new__(cls)
    Module.__init__(module)
    built[path] = module
    object.__setattr__(module, "training", bool(record.get("training", True)))
    for name, node in record["attributes"]:
        object.__setattr__(module, name, _decode_attribute(node, decode_value, globals_, f"{path}.{name}"))
    for name, node, requires_grad in record["parameters"]:
        value = None if node is None else decode_value(node, f"{path}.{name}")
        if value is not None and not isinstance(value, Parameter):
            value = Parameter(value, requires_grad=bool(requires_grad))
            built[f"{path}.{name}"] = value  # a tied weight's second place gets this same Parameter
        module._parameters[name] = value
    for name, node, persistent in record["buffers"]:
        module._buffers[name] = None if node is None else decode_value(node, f"{path}.{name}")
        if not persistent:
            module._non_persistent_buffers.add(name)
    for name, node in record["children"]:
        module._modules[name] = None if node is None else decode_value(node, f"{path}.{name}")
    return module


def _decode_attribute(node, decode_value, globals_, path):
    if isinstance(node, dict) and len(node) == 1:
        ((kind, content),) = node.items()
        if kind == "dtype":
            return dtypes.to_dtype(content)
        if kind == "device":
            return _device(content)
        if kind == "global":
            return globals_.resolve(content)
    return decode_value(node, path)
