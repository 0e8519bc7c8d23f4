"""Reading a request body with a size limit and a time limit.

A body larger than max_body_bytes is 413 (at once when Content-Length says so, else as soon as the bytes
received pass the limit); a body that does not arrive within body_timeout seconds is 408. Both close the
connection (Connection: close), since the rest of the body may still be on its way.
"""

import asyncio
import re

from .errors import ApiError

_DIGITS = re.compile(r"[0-9]{1,19}")
_CLOSE = {"connection": "close"}


async def read_body(request, max_bytes, timeout):
    declared = request.headers.get("content-length")
    if declared is not None and (not _DIGITS.fullmatch(declared) or int(declared) > max_bytes):
        if not _DIGITS.fullmatch(declared):
            raise ApiError(400, f"Content-Length must be a decimal number of bytes, got {declared[:40]!r}", _CLOSE)
        raise ApiError(413, f"request body of {declared} bytes exceeds the limit of {max_bytes}", _CLOSE)
    try:
        return await asyncio.wait_for(_collect(request, max_bytes), timeout)
    except asyncio.TimeoutError:
        raise ApiError(408, f"the request body did not arrive within {timeout:g} seconds", _CLOSE) from None


async def _collect(request, max_bytes):
    from starlette.requests import ClientDisconnect

    chunks, size = [], 0
    try:
        async for chunk in request.stream():
            chunks.append(chunk)
            size += len(chunk)
            if size > max_bytes:
                raise ApiError(413, f"request body exceeds the limit of {max_bytes} bytes", _CLOSE)
    except ClientDisconnect:
        raise ApiError(400, "the client disconnected before its body arrived") from None
    return b"".join(chunks)
