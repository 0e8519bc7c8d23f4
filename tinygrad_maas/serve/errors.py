"""The one error type of the server: a problem answered as {"error": message} with an HTTP status.

Raised anywhere while a request is handled (protocol decoding, the repository, the scheduler, access
control); the route guard (app.py) turns it into the response. Every other exception is the server's own
fault and becomes a 500 whose message never echoes internal details beyond the exception's type and text.
"""

import asyncio


class ApiError(ValueError):
    """An error answered as {"error": message} with this HTTP status (and optional extra headers, e.g.
    Retry-After on 429/503, WWW-Authenticate on 401, Connection: close on 408/413)."""

    def __init__(self, status, message, headers=None):
        super().__init__(message)
        self.status, self.message, self.headers = status, message, dict(headers or {})


def retry_after(seconds):
    """The Retry-After header (whole seconds, at least 1) for a 429 or 503."""
    return {"retry-after": str(max(1, int(-(-seconds // 1))))}


async def within(awaitable, seconds):
    """await `awaitable`, raising asyncio.TimeoutError after `seconds`. asyncio.timeout (Python 3.11+) runs
    it in the current task; wait_for, the fallback, makes a task of it, which costs more per request."""
    if _timeout is not None:
        async with _timeout(seconds):
            return await awaitable
    return await asyncio.wait_for(awaitable, seconds)


_timeout = getattr(asyncio, "timeout", None)
