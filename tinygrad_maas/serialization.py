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

import contextlib
import json
import math
import os
import secrets
import struct

import numpy as np

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


def save(obj, path):
    """Write obj (a tensor, or dicts / lists / tuples of tensors, arrays, numbers, strings, None) to path."""
    tensors = {}
    structure = _encode(obj, "", tensors)
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
    with atomic_write(path) as file:
        file.write(struct.pack("<Q", len(header_bytes)))
        file.write(header_bytes)
        for array in tensors.values():
            file.write(np.ascontiguousarray(array).astype(array.dtype.newbyteorder("<"), copy=False).tobytes())


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


def load(path):
    """Read what save wrote (or any safetensors file: a plain file gives a dict of name -> tensor)."""
    path = os.fspath(path)
    where = f"tm.load({path!r})"
    with open(path, "rb") as file:
        entries, metadata, data_start = _read_header(file, os.fstat(file.fileno()).st_size, where)
        file.seek(data_start)
        data = memoryview(file.read())
    tensors = {}
    for name, (dtype, shape, begin, end) in entries.items():
        array = np.frombuffer(data[begin:end], dtype=dtype.newbyteorder("<")).reshape(shape)
        tensors[name] = make_tensor(array.astype(dtype, copy=True), None)  # a writable, native-order copy
    if _STRUCTURE_KEY not in metadata:
        return tensors
    try:
        structure = json.loads(metadata[_STRUCTURE_KEY])
    except (TypeError, json.JSONDecodeError) as error:
        raise ValueError(f"{where}: corrupt structure metadata ({error})") from None
    return _decode(structure, tensors, where)


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


def _encode(obj, name, tensors):
    """The JSON tree of obj; tensors and arrays go into `tensors` under their dotted path."""
    if isinstance(obj, (Tensor, np.ndarray)):
        array = obj.array if isinstance(obj, Tensor) else obj
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
    raise TypeError(
        f"tm.save(): cannot store a {type(obj).__name__} at {name or 'the top'} (tensors, arrays, "
        "numbers, strings, None, and dicts/lists/tuples of them)"
    )


def _decode(node, tensors, where):
    if not isinstance(node, dict) or len(node) != 1:
        raise ValueError(f"{where}: corrupt structure metadata near {str(node):.100}")
    ((kind, content),) = node.items()
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
