"""The Open Inference Protocol (KServe v2) over REST: decoding requests into arrays checked against the
model's signature, and encoding responses, in JSON or with the binary tensor data extension.

Binary extension: the JSON header is the first Inference-Header-Content-Length bytes of the body; an input
with parameters.binary_data_size = n takes the next n bytes (little-endian, row major). An output asked
for with parameters.binary_data (or the request's binary_data_output) comes back the same way.

BYTES tensors (strings, as Triton's) hold Python bytes in a NumPy object array. In JSON each element is a
string (sent as its UTF-8 bytes); in binary each element is a 4-byte little-endian length followed by that
many bytes, elements in row-major order, which is how tritonclient serialises them.

Everything a client sends is checked before it is used, and a mistake is a 400 naming the field: types
(a name is a string, a shape is a list of integers and never booleans, parameters are objects), element
counts (computed with Python's integers, so a shape of 2**40 x 2**40 cannot wrap around to a small number),
values (FP32 data holds numbers, not strings or booleans; integers fit their datatype; floats are finite).
"""

import json
import math
import re

import numpy as np

from .errors import ApiError

try:  # part of the serve extra; parses requests about 10x faster than json (docs/serving.md)
    import orjson
except ImportError:  # the stdlib parser gives the same answers, slower
    orjson = None

DATATYPES = {
    "BOOL": np.bool_,
    "UINT8": np.uint8,
    "UINT16": np.uint16,
    "UINT32": np.uint32,
    "UINT64": np.uint64,
    "INT8": np.int8,
    "INT16": np.int16,
    "INT32": np.int32,
    "INT64": np.int64,
    "FP16": np.float16,
    "FP32": np.float32,
    "FP64": np.float64,
    "BYTES": np.object_,
}
_NAMES = {np.dtype(v): k for k, v in DATATYPES.items()}
# The JSON element types each datatype accepts. bool is not int here: True in FP32 data is a mistake.
_INTEGERS = frozenset((int,))
_JSON_TYPES = {
    "BOOL": frozenset((bool,)),
    "FP16": frozenset((int, float)),
    "FP32": frozenset((int, float)),
    "FP64": frozenset((int, float)),
    "BYTES": frozenset((str,)),
}
_DIGITS = re.compile(r"[0-9]{1,18}")  # ASCII only: "+5", " 5" and "٥" are not lengths


def json_loads(text):
    """Parse JSON (bytes or str); both parsers raise json.JSONDecodeError (orjson's error subclasses it).
    orjson, like the JSON standard, rejects NaN and Infinity, which the json module would accept."""
    return orjson.loads(text) if orjson is not None else json.loads(text)


def json_dumps(value):
    """JSON bytes."""
    return orjson.dumps(value) if orjson is not None else json.dumps(value).encode()


def parse_json_object(body, what="the request"):
    """A JSON object from bytes, or a 400."""
    try:
        value = json_loads(body or b"{}")
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise ApiError(400, f"{what} is not valid JSON: {error}") from None
    if not isinstance(value, dict):
        raise ApiError(400, f"{what} must be a JSON object")
    return value


def json_numbers(name, array):
    """The array's values as a flat list for JSON. NaN and infinity have no JSON form (orjson would write
    null, the json module an invalid NaN token), so such an output is an error that says what to ask for."""
    if array.dtype.kind == "f" and not np.all(np.isfinite(array)):
        raise ApiError(
            500,
            f"output {name!r} contains NaN or infinite values, which JSON cannot carry; ask for it "
            "as binary data (parameters.binary_data: true)",
        )
    if array.dtype.kind == "O":
        try:
            return [element.decode("utf-8") for element in array.reshape(-1)]
        except UnicodeDecodeError:
            raise ApiError(
                500,
                f"output {name!r} holds bytes that are not UTF-8, which JSON cannot carry; ask for it as "
                "binary data (parameters.binary_data: true)",
            ) from None
    return array.reshape(-1).tolist()


def serialize_bytes(array):
    """A BYTES tensor in the binary form: each element as a 4-byte little-endian length, then its bytes."""
    return b"".join(len(element).to_bytes(4, "little") + element for element in array.reshape(-1))


def deserialize_bytes(blob, count, where):
    """`count` BYTES elements from exactly the bytes of `blob` (a 400 naming what does not add up)."""
    elements, offset = [], 0
    for index in range(count):
        if offset + 4 > len(blob):
            raise ApiError(400, f"{where}: binary data ends before the length of element {index} of {count}")
        size = int.from_bytes(blob[offset : offset + 4], "little")
        offset += 4
        if offset + size > len(blob):
            raise ApiError(400, f"{where}: element {index} announces {size} bytes, only {len(blob) - offset} remain")
        elements.append(bytes(blob[offset : offset + size]))
        offset += size
    if offset != len(blob):
        raise ApiError(400, f"{where}: {len(blob) - offset} bytes are left after the {count} elements of the shape")
    array = np.empty(count, dtype=object)
    array[:] = elements
    return array


def datatype_of(dtype):
    return _NAMES[np.dtype(dtype)]


def parameters_of(item, where):
    """The optional "parameters" object of a request, input or output ({} when absent)."""
    parameters = item.get("parameters")
    if parameters is None:
        return {}
    if not isinstance(parameters, dict):
        raise ApiError(400, f"{where}.parameters must be an object, got {type(parameters).__name__}")
    return parameters


def _integer(value, where, minimum=0):
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ApiError(400, f"{where} must be an integer >= {minimum}, got {value!r}")
    return value


def split_body(body, header_length):
    """(the JSON request, the binary part after it)."""
    if header_length is not None:
        if not _DIGITS.fullmatch(header_length):
            raise ApiError(
                400, f"Inference-Header-Content-Length must be a decimal number of bytes, got {header_length[:40]!r}"
            )
        size = int(header_length)
        if size > len(body):
            raise ApiError(400, f"Inference-Header-Content-Length {size} exceeds the body's {len(body)} bytes")
        header, binary = body[:size], body[size:]
    else:
        header, binary = body, b""
    return parse_json_object(header), binary


def shape_matches(shape, expected):
    """Whether a shape fits a signature's shape (-1 there: any size)."""
    return len(shape) == len(expected) and all(e == -1 or s == e for s, e in zip(shape, expected))


def _flatten(data, where):
    """The leaves of nested lists, in row-major order (the protocol allows flat or nested data)."""
    if not isinstance(data, list):
        raise ApiError(400, f"{where}: data must be a list, got {type(data).__name__}")
    if not data or not isinstance(data[0], list):
        return data  # flat; a list hidden further in is caught by the element type check
    flat, stack = [], [iter(data)]
    while stack:
        for value in stack[-1]:
            if isinstance(value, list):
                if len(stack) > 32:
                    raise ApiError(400, f"{where}: data is nested more than 32 levels deep")
                stack.append(iter(value))
                break
            flat.append(value)
        else:
            stack.pop()
    return flat


def to_array(data, datatype, shape, where):
    """The JSON `data` as an array of `datatype` and `shape`, every element's type and range checked."""
    flat = _flatten(data, where)
    count = math.prod(shape)
    if len(flat) != count:
        raise ApiError(400, f"{where}: data has {len(flat)} elements but shape {list(shape)} needs {count}")
    allowed = _JSON_TYPES.get(datatype, _INTEGERS)
    if not set(map(type, flat)) <= allowed:
        wrong = next(value for value in flat if type(value) not in allowed)
        kinds = " or ".join(sorted((kind.__name__ for kind in allowed), reverse=True))
        raise ApiError(400, f"{where}: data of datatype {datatype} must hold {kinds} values, found {wrong!r:.40}")
    if datatype == "BYTES":
        array = np.empty(count, dtype=object)
        array[:] = [element.encode("utf-8") for element in flat]  # a lone surrogate cannot reach here:
        return array.reshape(shape)  # the JSON parsers refuse it
    dtype = np.dtype(DATATYPES[datatype])
    try:
        found = np.asarray(flat)  # float64, int64, uint64 or bool: the values as sent (faster than converting)
    except OverflowError:
        found = None
    if (
        found is None
        or found.dtype.kind == "O"
        or (
            dtype.kind in "iu"
            and found.size
            and (found.min() < np.iinfo(dtype).min or found.max() > np.iinfo(dtype).max)
        )
    ):
        raise ApiError(400, f"{where}: a value does not fit datatype {datatype}")
    with np.errstate(over="ignore"):  # FP32 overflow becomes inf, reported as out of range by check_finite
        return found.astype(dtype, copy=False).reshape(shape)


def check_shape(shape, expected, where):
    if not isinstance(shape, list) or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape):
        raise ApiError(400, f"{where}: shape must be a list of non-negative integers, got {shape!r:.100}")
    if not shape_matches(shape, expected):
        raise ApiError(400, f"{where}: shape {shape} does not match the model's {expected} (-1: any size)")
    if shape and shape[0] == 0:
        raise ApiError(400, f"{where}: shape {shape} has a batch of 0 rows; send at least one")


def check_finite(array, where):
    if array.dtype.kind == "f" and not np.all(np.isfinite(array)):
        raise ApiError(400, f"{where}: data contains NaN or infinite values (or values out of the datatype's range)")
    return array


def nested_to_array(rows, datatype, where):
    """Nested lists (TF-Serving's "instances", an explanation's baseline) as an array of `datatype`; the
    shape is the nesting's, which must be regular."""
    try:
        shape = list(np.shape(rows))
    except ValueError:
        raise ApiError(400, f"{where}: the nested lists are ragged (rows of different lengths)") from None
    if not isinstance(rows, list):
        raise ApiError(400, f"{where} must be a list, got {type(rows).__name__}")
    return check_finite(to_array(rows, datatype, shape, where), where)


def _decode_input(item, position, expected, binary, offset):
    """(name, array, new offset) of one entry of "inputs"."""
    if not isinstance(item, dict):
        raise ApiError(400, f"inputs[{position}] must be an object")
    name, datatype, shape = item.get("name"), item.get("datatype"), item.get("shape")
    if not isinstance(name, str):
        raise ApiError(400, f"inputs[{position}].name must be a string, got {name!r:.60}")
    if name not in expected:
        raise ApiError(
            400, f"inputs[{position}].name {name[:60]!r} is not an input of the model (expected {sorted(expected)})"
        )
    where = f"input {name!r}"
    if datatype != expected[name]["datatype"]:
        raise ApiError(
            400, f"{where}: datatype {datatype!r:.40} does not match the model's {expected[name]['datatype']!r}"
        )
    check_shape(shape, expected[name]["shape"], where)
    dtype = np.dtype(DATATYPES[datatype])
    size = parameters_of(item, f"inputs[{position}]").get("binary_data_size")
    if size is None:
        if "data" not in item:
            raise ApiError(400, f"{where}: give 'data' (or binary data with parameters.binary_data_size)")
        return name, to_array(item["data"], datatype, shape, where), offset
    _integer(size, f"{where}: parameters.binary_data_size")
    if datatype == "BYTES":  # elements of any length: the size is checked against the elements' own lengths
        if offset + size > len(binary):
            raise ApiError(400, f"{where}: the body holds {len(binary) - offset} binary bytes, {size} were announced")
        blob = memoryview(binary)[offset : offset + size]
        return name, deserialize_bytes(blob, math.prod(shape), where).reshape(shape), offset + size
    needed = math.prod(shape) * dtype.itemsize
    if size != needed:
        raise ApiError(400, f"{where}: binary_data_size {size} but shape {shape} of {datatype} needs {needed} bytes")
    if offset + size > len(binary):
        raise ApiError(400, f"{where}: the body holds {len(binary) - offset} binary bytes, {size} were announced")
    array = np.frombuffer(binary, dtype=dtype.newbyteorder("<"), count=size // dtype.itemsize, offset=offset)
    return name, array.astype(dtype).reshape(shape), offset + size


def decode_inputs(request, binary, signature_inputs):
    """{input name: array}, every field checked against the signature; binary parts consumed in order."""
    inputs = request.get("inputs")
    if not isinstance(inputs, list) or not inputs:
        raise ApiError(400, "'inputs' must be a non-empty list")
    expected = {item["name"]: item for item in signature_inputs}
    arrays, offset = {}, 0
    for position, item in enumerate(inputs):
        name, array, offset = _decode_input(item, position, expected, binary, offset)
        if name in arrays:
            raise ApiError(400, f"inputs[{position}].name {name!r} appears twice")
        arrays[name] = check_finite(array, f"input {name!r}")
    if offset != len(binary):
        raise ApiError(400, f"the body has {len(binary) - offset} binary bytes that no input claims")
    missing = sorted(set(expected) - set(arrays))
    if missing:
        raise ApiError(400, f"missing inputs: {missing}")
    rows = {array.shape[0] for array in arrays.values()}
    if len(rows) > 1:
        raise ApiError(400, f"inputs disagree on the batch size: {sorted(rows)} rows")
    return arrays


def requested_outputs(request, output_names):
    """{output name: send as binary?} of what the client asked for (every output when it names none)."""
    default_binary = parameters_of(request, "request").get("binary_data_output", False)
    if not isinstance(default_binary, bool):
        raise ApiError(400, f"parameters.binary_data_output must be true or false, got {default_binary!r:.40}")
    wanted = request.get("outputs")
    if wanted is None:
        return {name: default_binary for name in output_names}
    if not isinstance(wanted, list):
        raise ApiError(400, "'outputs' must be a list")
    chosen = {}
    for position, item in enumerate(wanted):
        name = item.get("name") if isinstance(item, dict) else None
        if not isinstance(name, str) or name not in output_names:
            raise ApiError(
                400, f"outputs[{position}].name {name!r:.60} is not an output of the model ({sorted(output_names)})"
            )
        binary = parameters_of(item, f"outputs[{position}]").get("binary_data", default_binary)
        if not isinstance(binary, bool):
            raise ApiError(400, f"outputs[{position}].parameters.binary_data must be true or false")
        chosen[name] = binary
    return chosen


def request_id(request):
    """The request's "id", echoed in the response (a string, as the protocol says)."""
    identifier = request.get("id")
    if identifier is not None and not isinstance(identifier, str):
        raise ApiError(400, f"'id' must be a string, got {type(identifier).__name__}")
    return identifier


def scheduling_parameters(request):
    """(priority, timeout in microseconds) from the request's parameters (None: the model's default)."""
    parameters = parameters_of(request, "request")
    priority, timeout = parameters.get("priority"), parameters.get("timeout")
    if priority is not None:
        _integer(priority, "parameters.priority")
    if timeout is not None:
        _integer(timeout, "parameters.timeout")
    return priority, timeout


def encode_response(model, version, outputs, binary_names, identifier=None):
    """(body bytes, extra headers) of an inference response; binary_names: {output: as binary?}."""
    entries, blobs = [], []
    for name, binary in binary_names.items():
        array = np.ascontiguousarray(outputs[name])
        entry = {"name": name, "datatype": datatype_of(array.dtype), "shape": list(array.shape)}
        if binary and array.dtype.kind == "O":
            blob = serialize_bytes(array)
            entry["parameters"] = {"binary_data_size": len(blob)}
            blobs.append(blob)
        elif binary:
            blob = array.astype(array.dtype.newbyteorder("<"), copy=False).tobytes()
            entry["parameters"] = {"binary_data_size": len(blob)}
            blobs.append(blob)
        else:
            entry["data"] = json_numbers(name, array)
        entries.append(entry)
    response = {"model_name": model, "model_version": version, "outputs": entries}
    if identifier is not None:
        response["id"] = identifier
    header = json_dumps(response)
    if not blobs:
        return header, {"content-type": "application/json"}
    return header + b"".join(blobs), {
        "content-type": "application/octet-stream",
        "inference-header-content-length": str(len(header)),
    }
