"""Reading a request body with a size limit.

A body larger than max_body_bytes is 413 (at once when Content-Length says so, else as soon as the bytes
received pass the limit), and closes the connection (Connection: close), since the rest of the body may
still be on its way. The time a body may take is bounded by the connection layer (http.py, body_timeout).
"""

import re

from .errors import ApiError

_DIGITS = re.compile(r"[0-9]{1,19}")
_CLOSE = {"connection": "close"}


async def read_body(request, max_bytes):
    from starlette.requests import ClientDisconnect

    declared = request.headers.get("content-length")
    if declared is not None and not _DIGITS.fullmatch(declared):
        raise ApiError(400, f"Content-Length must be a decimal number of bytes, got {declared[:40]!r}", _CLOSE)
    if declared is not None and int(declared) > max_bytes:
        raise ApiError(413, f"request body of {declared} bytes exceeds the limit of {max_bytes}", _CLOSE)
    chunks, size = [], 0
    try:
        async for chunk in request.stream():
            chunks.append(chunk)
            size += len(chunk)
            if size > max_bytes:
                raise ApiError(413, f"request body exceeds the limit of {max_bytes} bytes", _CLOSE)
    except ClientDisconnect:
        raise ApiError(400, "the client disconnected (or was cut off) before its body arrived") from None
    return b"".join(chunks)
