"""tm.save / tm.load: state_dicts (nested dicts and lists of tensors and numbers) in a safe file format.

The file is a safetensors file, so any safetensors reader can open its tensors:

    8 bytes      little-endian u64: N, the length of the JSON header
    N bytes      JSON: {"tensor name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ...,
                        "__metadata__": {"tinygrad_maas.structure": "<JSON of the object's tree>"}}
    the rest     the tensors' bytes, little-endian, at their offsets

Whatever is not a tensor (nesting, step counts, learning rates, tuples like Adam's betas) lives in the
structure JSON, which refers to tensors by name; an ndarray comes back as an ndarray, a tensor as a tensor,
and one object saved twice (tied weights) comes back as one object. A whole Module is a record of class
names, plain attributes and tensors (nn/whole_module.py), never a pickle. Reading never executes anything
from the file, and every length and offset is checked before a byte is used. Writing to a path goes to a
temporary file in the same folder that replaces the target only once complete (os.replace is atomic), so a
crash never leaves a half-written checkpoint under the real name.
"""

import contextlib
import io
import json
import math
import os
import secrets
import struct

import numpy as np

from .device import require_cpu
from .tensor import Tensor, make_tensor

_DTYPES = {
    "F16": np.float16,
    "F32": np.float32,
    "F64": np.float64,
    "I8": np.int8,
    "I16": np.int16,
    "I32": np.int32,
    "I64": np.int64,
    "U8": np.uint8,
    "BOOL": np.bool_,
}
_CODES = {np.dtype(v): k for k, v in _DTYPES.items()}
_STRUCTURE_KEY = "tinygrad_maas.structure"
_MAX_HEADER = 100 * 1024 * 1024


def save(obj, f, pickle_module=None, pickle_protocol=None):
    """Write obj (a tensor, an ndarray, a Module, or dicts / lists / tuples of them, numbers, strings and
    None) to `f`, a path or a binary file object (as torch.save). Nothing is pickled: pickle_module is
    refused, pickle_protocol ignored."""
    if pickle_module is not None:
        raise ValueError("tm.save(): pickle_module is not supported: tinygrad_maas files never hold pickles")
    tensors = {}
    structure = _Encoder(tensors).encode(obj, "")
    header, offset = {}, 0
    for name, array in tensors.items():
        header[name] = {
            "dtype": _CODES[array.dtype],
            "shape": list(array.shape),
            "data_offsets": [offset, offset + array.nbytes],
        }
        offset += array.nbytes
    header["__metadata__"] = {_STRUCTURE_KEY: json.dumps(structure)}
    header_bytes = json.dumps(header, separators=(",", ":")).encode("utf-8")
    header_bytes += b" " * (-len(header_bytes) % 8)  # the spec allows space padding; it aligns the data
    with _output(f) as file:
        file.write(struct.pack("<Q", len(header_bytes)))
        file.write(header_bytes)
        for array in tensors.values():
            file.write(np.ascontiguousarray(array).astype(array.dtype.newbyteorder("<"), copy=False).tobytes())


@contextlib.contextmanager
def _output(f):
    """A binary file to write to: an open file object as given (written once, in order), or a path written
    atomically."""
    if hasattr(f, "write"):
        yield f
        return
    with atomic_write(f) as file:
        yield file


@contextlib.contextmanager
def atomic_write(path):
    """A binary file object whose content replaces `path` only once it is complete and on disk.

    The temporary file sits in the same folder (os.replace is atomic only within one file system) and is
    created with mode 0o666, which the process's umask then narrows, as for any file a program writes
    (tempfile.mkstemp would make it 0600, unreadable by a server running as another user). On any failure,
    an interrupt included, the temporary file is removed and `path` is left as it was.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"cannot save to {path!r}: the folder {folder!r} does not exist")
    temporary = os.path.join(folder, f".tmp-{secrets.token_hex(8)}-{os.path.basename(path)}")
    handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(handle, "wb") as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def read_header(path):
    """{tensor name: (dtype, shape)} of a safetensors file, from its header alone (the tensors' bytes are not
    read). Every entry is checked, and the file must be long enough for every tensor it announces, so a
    caller can trust these shapes and sizes before it allocates anything for them."""
    path = os.fspath(path)
    with open(path, "rb") as file:
        entries, _, _ = _read_header(file, os.fstat(file.fileno()).st_size, f"read_header({path!r})")
    return {name: (dtype, shape) for name, (dtype, shape, _, _) in entries.items()}


def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None, **pickle_load_args):
    """Read what save wrote (or any safetensors file: a plain file gives a dict of name -> tensor) from a
    path or a binary file object, with the arguments of PyTorch's load.

    map_location may name the CPU ("cpu", tm.device("cpu"), {"cuda:0": "cpu"}) or be a function: every
    tensor is a CPU tensor here, so there is nothing to move. weights_only=True (the default, as PyTorch's)
    loads tensors, arrays and plain values; a whole saved Module needs weights_only=False or its classes
    in safe_globals (nn/whole_module.py says why).
    """
    _check_map_location(map_location)
    if pickle_module is not None or pickle_load_args:
        raise ValueError("tm.load(): pickle_module and pickle arguments are not supported: files never hold pickles")
    name = getattr(f, "name", None) if hasattr(f, "read") else os.fspath(f)
    where = f"tm.load({name!r})"
    if hasattr(f, "read"):
        data = f.read()
        file = io.BytesIO(data)
        entries, metadata, data_start = _read_header(file, len(data), where)
        data = memoryview(data)[data_start:]
    else:
        with open(name, "rb") as file:
            entries, metadata, data_start = _read_header(file, os.fstat(file.fileno()).st_size, where)
            file.seek(data_start)
            data = memoryview(file.read())
    arrays = {}
    for key, (dtype, shape, begin, end) in entries.items():
        array = np.frombuffer(data[begin:end], dtype=dtype.newbyteorder("<")).reshape(shape)
        arrays[key] = array.astype(dtype, copy=True)  # a writable, native-order copy
    if _STRUCTURE_KEY not in metadata:
        return {key: make_tensor(array, None) for key, array in arrays.items()}
    try:
        structure = json.loads(metadata[_STRUCTURE_KEY])
    except (TypeError, json.JSONDecodeError) as error:
        raise ValueError(f"{where}: corrupt structure metadata ({error})") from None
    everything = weights_only is False
    return _Decoder(arrays, where, everything).decode(structure)


def _check_map_location(map_location):
    if map_location is None or callable(map_location):
        return
    targets = map_location.values() if isinstance(map_location, dict) else [map_location]
    for target in targets:
        require_cpu(target, "tm.load")


# Classes and functions a weights_only load may look up by name (PyTorch's add_safe_globals).
_safe_globals = set()


def add_safe_globals(safe_globals):
    """Allow these classes (and functions) in whole models loaded with weights_only=True."""
    _safe_globals.update(_name_of(item) for item in safe_globals)


def get_safe_globals():
    return sorted(_safe_globals)


def clear_safe_globals():
    _safe_globals.clear()


@contextlib.contextmanager
def safe_globals(safe_globals):
    """`with tm.serialization.safe_globals([MyNet]): tm.load(path)`: allow these only inside the block."""
    added = {_name_of(item) for item in safe_globals} - _safe_globals
    _safe_globals.update(added)
    try:
        yield
    finally:
        _safe_globals.difference_update(added)


def _name_of(item):
    if isinstance(item, tuple):  # PyTorch also takes (object, "its.name") pairs
        item = item[0]
    return f"{item.__module__}:{item.__qualname__}"


def _read_header(file, file_size, where):
    """({name: (dtype, shape, begin, end)}, metadata, offset of the data section), every field checked."""
    prefix = file.read(8)
    if len(prefix) < 8:
        raise ValueError(f"{where}: not a safetensors file: only {len(prefix)} bytes (truncated?)")
    (header_size,) = struct.unpack("<Q", prefix)
    if header_size > min(file_size - 8, _MAX_HEADER):
        raise ValueError(
            f"{where}: not a safetensors file or truncated: the header claims {header_size} bytes "
            f"but the file has {file_size - 8} after the length"
        )
    try:
        header = json.loads(file.read(header_size))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise ValueError(f"{where}: corrupt header (not valid JSON: {error})") from None
    if not isinstance(header, dict):
        raise ValueError(f"{where}: corrupt header (expected a JSON object)")
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict):
        raise ValueError(f"{where}: corrupt header (__metadata__ must be an object)")
    data_size = file_size - 8 - header_size
    entries = {name: _check_entry(name, entry, data_size, where) for name, entry in header.items()}
    return entries, metadata, 8 + header_size


def _check_entry(name, entry, data_size, where):
    try:
        dtype = np.dtype(_DTYPES[entry["dtype"]])
        shape = tuple(entry["shape"])
        begin, end = entry["data_offsets"]
    except (KeyError, TypeError, ValueError):
        raise ValueError(f"{where}: corrupt entry for tensor {name!r}: {entry!r:.200}") from None
    if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape + (begin, end)):
        raise ValueError(f"{where}: corrupt entry for tensor {name!r}: negative or non-integer shape/offsets")
    expected = math.prod(shape) * dtype.itemsize  # Python integers: a huge shape cannot wrap around
    if end - begin != expected:
        raise ValueError(
            f"{where}: tensor {name!r} of shape {shape} needs {expected} bytes, its offsets give {end - begin}"
        )
    if end > data_size:
        raise ValueError(
            f"{where}: truncated file: tensor {name!r} needs bytes {begin}..{end} of a data section "
            f"of {data_size} bytes"
        )
    return dtype, shape, begin, end


class _Encoder:
    """The JSON tree of an object; tensors and arrays go into `tensors` under their dotted path. An object
    met a second time (a tied weight, a shared module) becomes a reference to its first place."""

    def __init__(self, tensors):
        self.tensors, self.seen, self.keep_alive = tensors, {}, []

    def encode(self, obj, name):
        if isinstance(obj, (Tensor, np.ndarray)) or _is_module(obj):
            if id(obj) in self.seen:
                return {"same_as": self.seen[id(obj)]}
            self.seen[id(obj)] = name or ("model" if _is_module(obj) else "tensor")
            self.keep_alive.append(obj)  # ids stay unique while encoding
        if isinstance(obj, (Tensor, np.ndarray)):
            array = obj.array if isinstance(obj, Tensor) else obj
            if array.dtype not in _CODES:
                raise TypeError(f"tm.save(): cannot store {name or 'the tensor'} of dtype {array.dtype}")
            key = name or "tensor"
            self.tensors[key] = array
            return {"tensor" if isinstance(obj, Tensor) else "array": key}
        if _is_module(obj):
            from .nn import whole_module

            return {"module": whole_module.encode(obj, self.encode, name or "model")}
        if isinstance(obj, dict):
            items = []
            for key, value in obj.items():
                if not isinstance(key, (str, int)) or isinstance(key, bool):
                    raise TypeError(f"tm.save(): dict keys must be str or int, got {key!r} at {name or 'the top'}")
                child = f"{name}.{key}" if name else str(key)
                items.append([key, self.encode(value, child)])
            return {"dict": items}
        if isinstance(obj, (list, tuple)):
            values = [self.encode(value, f"{name}.{i}" if name else str(i)) for i, value in enumerate(obj)]
            return {"tuple" if isinstance(obj, tuple) else "list": values}
        if isinstance(obj, np.generic):
            obj = obj.item()
        if obj is None or isinstance(obj, (bool, int, float, str)):
            return {"value": obj}
        raise TypeError(
            f"tm.save(): cannot store a {type(obj).__name__} at {name or 'the top'} (tensors, arrays, modules, "
            "numbers, strings, None, and dicts/lists/tuples of them)"
        )


def _is_module(obj):
    from .nn.module import Module

    return isinstance(obj, Module)


class _Decoder:
    def __init__(self, arrays, where, everything):
        self.arrays, self.where, self.everything = arrays, where, everything
        self.built = {}  # first place of an object -> the object, for "same_as" references

    def decode(self, node, place=""):
        if not isinstance(node, dict) or len(node) != 1:
            raise ValueError(f"{self.where}: corrupt structure metadata near {str(node):.100}")
        ((kind, content),) = node.items()
        if kind in ("tensor", "array"):
            if content not in self.arrays:
                raise ValueError(f"{self.where}: the structure refers to a tensor {content!r} the file does not hold")
            value = make_tensor(self.arrays[content], None) if kind == "tensor" else self.arrays[content]
            self.built[content] = value
            return value
        if kind == "same_as":
            if content not in self.built:
                raise ValueError(f"{self.where}: corrupt structure metadata (a reference to {content!r:.80})")
            return self.built[content]
        if kind == "module":
            from .nn import whole_module

            globals_ = whole_module.Globals(self.everything, _safe_globals, self.where)
            try:
                module = whole_module.decode(content, self.decode, globals_, self.where, place or "model", self.built)
            except (KeyError, TypeError, ValueError) as error:
                raise ValueError(f"{self.where}: corrupt model record ({error})") from None
            return module
        if kind == "dict":
            return {key: self.decode(value, f"{place}.{key}" if place else str(key)) for key, value in content}
        if kind in ("list", "tuple"):
            values = [self.decode(value, f"{place}.{i}" if place else str(i)) for i, value in enumerate(content)]
            return tuple(values) if kind == "tuple" else values
        if kind == "value":
            return content
        raise ValueError(f"{self.where}: corrupt structure metadata (unknown node {kind!r})")
