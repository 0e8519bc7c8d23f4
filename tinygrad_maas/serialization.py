"""tm.save / tm.load: state_dicts (nested dicts and lists of tensors and numbers) in a safe file format.

The file is a safetensors file, so any safetensors reader can open its tensors:

    8 bytes      little-endian u64: N, the length of the JSON header
    N bytes      JSON: {"tensor name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ...,
                        "__metadata__": {"tinygrad_maas.structure": "<JSON of the object's tree>"}}
    the rest     the tensors' bytes, little-endian, at their offsets

Whatever is not a tensor (nesting, step counts, learning rates, tuples like Adam's betas) lives in the
structure JSON, which refers to tensors by name. Reading never executes anything from the file (no pickle),
and every length and offset is checked before a byte is used. Writing goes to a temporary file in the same
folder that replaces the target only once complete (os.replace is atomic), so a crash never leaves a
half-written checkpoint under the real name.
"""

import json
import os
import struct
import tempfile

import numpy as np

from .tensor import Tensor, make_tensor

_DTYPES = {"F16": np.float16, "F32": np.float32, "F64": np.float64, "I8": np.int8, "I16": np.int16,
           "I32": np.int32, "I64": np.int64, "U8": np.uint8, "BOOL": np.bool_}
_CODES = {np.dtype(v): k for k, v in _DTYPES.items()}
_STRUCTURE_KEY = "tinygrad_maas.structure"
_MAX_HEADER = 100 * 1024 * 1024


def save(obj, path):
    """Write obj (a tensor, or dicts / lists / tuples of tensors, arrays, numbers, strings, None) to path."""
    tensors = {}
    structure = _encode(obj, "", tensors)
    header, offset = {}, 0
    for name, array in tensors.items():
        header[name] = {"dtype": _CODES[array.dtype], "shape": list(array.shape),
                        "data_offsets": [offset, offset + array.nbytes]}
        offset += array.nbytes
    header["__metadata__"] = {_STRUCTURE_KEY: json.dumps(structure)}
    header_bytes = json.dumps(header, separators=(",", ":")).encode("utf-8")
    header_bytes += b" " * (-len(header_bytes) % 8)  # the spec allows space padding; it aligns the data
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(prefix=".tmp-", suffix=".safetensors", dir=folder)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(struct.pack("<Q", len(header_bytes)))
            file.write(header_bytes)
            for array in tensors.values():
                file.write(np.ascontiguousarray(array).astype(array.dtype.newbyteorder("<"), copy=False).tobytes())
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def load(path):
    """Read what save wrote (or any safetensors file: a plain file gives a dict of name -> tensor)."""
    path = os.fspath(path)
    with open(path, "rb") as file:
        content = file.read()
    where = f"tm.load({path!r})"
    if len(content) < 8:
        raise ValueError(f"{where}: not a safetensors file: only {len(content)} bytes (truncated?)")
    (header_size,) = struct.unpack("<Q", content[:8])
    if header_size > min(len(content) - 8, _MAX_HEADER):
        raise ValueError(f"{where}: not a safetensors file or truncated: the header claims {header_size} bytes "
                         f"but the file has {len(content) - 8} after the length")
    try:
        header = json.loads(content[8:8 + header_size])
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{where}: corrupt header (not valid JSON: {error})") from None
    if not isinstance(header, dict):
        raise ValueError(f"{where}: corrupt header (expected a JSON object)")
    data = memoryview(content)[8 + header_size:]
    metadata = header.pop("__metadata__", None) or {}
    tensors = {name: _read_tensor(name, entry, data, where) for name, entry in header.items()}
    if _STRUCTURE_KEY not in metadata:
        return tensors
    try:
        structure = json.loads(metadata[_STRUCTURE_KEY])
    except (TypeError, json.JSONDecodeError) as error:
        raise ValueError(f"{where}: corrupt structure metadata ({error})") from None
    return _decode(structure, tensors, where)


def _read_tensor(name, entry, data, where):
    try:
        dtype = np.dtype(_DTYPES[entry["dtype"]]).newbyteorder("<")
        shape = tuple(entry["shape"])
        begin, end = entry["data_offsets"]
    except (KeyError, TypeError, ValueError):
        raise ValueError(f"{where}: corrupt entry for tensor {name!r}: {entry!r:.200}") from None
    if not all(isinstance(n, int) and n >= 0 for n in shape + (begin, end)):
        raise ValueError(f"{where}: corrupt entry for tensor {name!r}: negative or non-integer shape/offsets")
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if end - begin != expected:
        raise ValueError(f"{where}: tensor {name!r} of shape {shape} needs {expected} bytes, its offsets give "
                         f"{end - begin}")
    if end > len(data):
        raise ValueError(f"{where}: truncated file: tensor {name!r} needs bytes {begin}..{end} of a data section "
                         f"of {len(data)} bytes")
    array = np.frombuffer(data[begin:end], dtype=dtype).reshape(shape)
    return make_tensor(array.astype(dtype.newbyteorder("="), copy=True), None)  # a writable, native-order copy


def _encode(obj, name, tensors):
    """The JSON tree of obj; tensors and arrays go into `tensors` under their dotted path."""
    if isinstance(obj, (Tensor, np.ndarray)):
        array = obj.data if isinstance(obj, Tensor) else obj
        if array.dtype not in _CODES:
            raise TypeError(f"tm.save(): cannot store {name or 'the tensor'} of dtype {array.dtype}")
        key = name or "tensor"
        tensors[key] = array
        return {"tensor": key}
    if isinstance(obj, dict):
        items = []
        for key, value in obj.items():
            if not isinstance(key, (str, int)) or isinstance(key, bool):
                raise TypeError(f"tm.save(): dict keys must be str or int, got {key!r} at {name or 'the top'}")
            child = f"{name}.{key}" if name else str(key)
            items.append([key, _encode(value, child, tensors)])
        return {"dict": items}
    if isinstance(obj, (list, tuple)):
        values = [_encode(value, f"{name}.{i}" if name else str(i), tensors) for i, value in enumerate(obj)]
        return {"tuple" if isinstance(obj, tuple) else "list": values}
    if isinstance(obj, np.generic):
        obj = obj.item()
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return {"value": obj}
    raise TypeError(f"tm.save(): cannot store a {type(obj).__name__} at {name or 'the top'} (tensors, arrays, "
                    "numbers, strings, None, and dicts/lists/tuples of them)")


def _decode(node, tensors, where):
    if not isinstance(node, dict) or len(node) != 1:
        raise ValueError(f"{where}: corrupt structure metadata near {str(node):.100}")
    (kind, content), = node.items()
    if kind == "tensor":
        if content not in tensors:
            raise ValueError(f"{where}: the structure refers to a tensor {content!r} the file does not hold")
        return tensors[content]
    if kind == "dict":
        return {key: _decode(value, tensors, where) for key, value in content}
    if kind in ("list", "tuple"):
        values = [_decode(value, tensors, where) for value in content]
        return tuple(values) if kind == "tuple" else values
    if kind == "value":
        return content
    raise ValueError(f"{where}: corrupt structure metadata (unknown node {kind!r})")
