"""Per-tenant quotas: a request rate (token bucket) and a number of requests in flight, so one tenant
cannot take the server's time from the others. Both answer 429 Too Many Requests with Retry-After.

Token bucket: a tenant's bucket holds up to `burst` tokens and refills at `rate_per_second`; each request
takes one. A client sending faster than the rate drains the bucket and is told, in whole seconds, when the
next token will be there. Everything here runs in the server's event loop (no locks needed).
"""

import contextlib
import time

from .errors import ApiError, retry_after


class _Bucket:
    __slots__ = ("tokens", "updated", "in_flight")

    def __init__(self, burst):
        self.tokens, self.updated, self.in_flight = burst, time.monotonic(), 0


class Quotas:
    def __init__(self, metrics=None):
        self.buckets = {}  # tenant name -> _Bucket
        self.metrics = metrics

    @contextlib.contextmanager
    def admit(self, tenant):
        """Hold one of the tenant's in-flight places for the duration of the block (429 if none is left)."""
        if tenant is None:
            yield
            return
        bucket = self.buckets.get(tenant.name)
        if bucket is None:
            bucket = self.buckets[tenant.name] = _Bucket(tenant.burst)
        now = time.monotonic()
        bucket.tokens = min(tenant.burst, bucket.tokens + (now - bucket.updated) * tenant.rate_per_second)
        bucket.updated = now
        if bucket.tokens < 1:
            self._reject("rate_limited")
            raise ApiError(
                429,
                f"tenant {tenant.name!r} is over its rate of {tenant.rate_per_second:g} requests per second",
                retry_after((1 - bucket.tokens) / tenant.rate_per_second),
            )
        if bucket.in_flight >= tenant.max_in_flight:
            self._reject("too_many_in_flight")
            raise ApiError(
                429, f"tenant {tenant.name!r} has {bucket.in_flight} requests in flight, its limit", retry_after(1)
            )
        bucket.tokens -= 1
        bucket.in_flight += 1
        try:
            yield
        finally:
            bucket.in_flight -= 1

    def _reject(self, reason):
        if self.metrics is not None:
            self.metrics.rejected(reason)
