"""Who may do what: bearer tokens mapped to tenants, each with the models it may use, its scopes and its
quotas; and the Host allow-list.

A tokens file (never tokens on the command line, where `ps` shows them) is JSON:

    {"tenants": {
       "team-a": {"token_sha256": "<hex sha256 of the token>", "models": ["mnist", "digits-*"],
                  "scopes": ["infer", "metadata"], "rate_per_second": 50, "burst": 100, "max_in_flight": 8,
                  "priority": 1},
       "ops":    {"token": "<the token itself>", "scopes": ["admin", "metadata"]}}}

- token / token_sha256: the secret, or its SHA-256 (so a leaked tokens file leaks no token). At least 16
  characters: a token is a password no person types.
- models: names or shell patterns ("*" matches every model; the default).
- scopes: "infer" (inference, explanations), "metadata" (model and server metadata, readiness, listing),
  "admin" (the repository index, load/unload, /metrics). Default: infer and metadata.
- rate_per_second / burst: a token bucket, answered 429 with Retry-After when empty; max_in_flight:
  requests at once, 429 beyond it. Defaults 100 / 200 / 16, raised per tenant as needed.
- priority: the queue priority level of this tenant's requests (1 runs first) where a model has levels.

The health endpoints (/v2/health/*), the page at / and /openapi.json need no token. A missing or wrong
token is 401 with WWW-Authenticate: Bearer; a valid token without the scope or the model is 403.
"""

import dataclasses
import fnmatch
import hashlib
import json

from .errors import ApiError

SCOPES = ("infer", "metadata", "admin")


@dataclasses.dataclass(frozen=True)
class Tenant:
    name: str
    models: tuple = ("*",)
    scopes: tuple = ("infer", "metadata")
    rate_per_second: float = 100.0
    burst: float = 200.0
    max_in_flight: int = 16
    priority: int = 0  # 0: the model's default level

    def may_use(self, model):
        return any(fnmatch.fnmatchcase(model, pattern) for pattern in self.models)


ANONYMOUS = None  # no access control: every request is allowed, and no quota applies


def _digest(token):
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _tenant_from(name, entry):
    where = f"tenant {name!r}"
    if not isinstance(entry, dict):
        raise ValueError(f"{where} must be an object")
    known = {"token", "token_sha256", "models", "scopes", "rate_per_second", "burst", "max_in_flight", "priority"}
    unknown = sorted(set(entry) - known)
    if unknown:
        raise ValueError(f"{where}: unknown field(s) {unknown}; known: {sorted(known)}")
    if ("token" in entry) == ("token_sha256" in entry):
        raise ValueError(f"{where}: give exactly one of token or token_sha256")
    if "token" in entry:
        if not isinstance(entry["token"], str) or len(entry["token"]) < 16:
            raise ValueError(f"{where}: token must be a string of at least 16 characters")
        digest = _digest(entry["token"])
    else:
        digest = entry["token_sha256"]
        if not isinstance(digest, str) or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise ValueError(f"{where}: token_sha256 must be 64 lowercase hex digits")
    fields = {}
    for key in ("models", "scopes"):
        if key in entry:
            value = entry[key]
            if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
                raise ValueError(f"{where}: {key} must be a non-empty list of strings")
            fields[key] = tuple(value)
    bad = sorted(set(fields.get("scopes", ())) - set(SCOPES))
    if bad:
        raise ValueError(f"{where}: unknown scope(s) {bad}; scopes are {list(SCOPES)}")
    for key in ("rate_per_second", "burst", "max_in_flight", "priority"):
        if key in entry:
            value = entry[key]
            integral = key in ("max_in_flight", "priority")
            if (
                isinstance(value, bool)
                or not isinstance(value, int if integral else (int, float))
                or value < (0 if key == "priority" else 1)
            ):
                raise ValueError(
                    f"{where}: {key} must be a positive {'integer' if integral else 'number'}, got {value!r:.40}"
                )
            fields[key] = value
    return digest, Tenant(name, **fields)


class AccessControl:
    """Bearer-token authentication and per-tenant authorization. Without tenants, everything is allowed."""

    def __init__(self, tenants=None):
        self.tenants = dict(tenants or {})  # sha256 of token -> Tenant

    @classmethod
    def from_token(cls, token):
        """One tenant with every scope and every model (the --token-file / TINYGRAD_MAAS_TOKEN setting)."""
        if not token:
            return cls()
        return cls(
            {_digest(token): Tenant("default", scopes=SCOPES, rate_per_second=1e9, burst=1e9, max_in_flight=1_000_000)}
        )

    @classmethod
    def from_file(cls, path):
        with open(path, "rb") as file:
            try:
                document = json.loads(file.read(1024 * 1024))
            except (json.JSONDecodeError, UnicodeDecodeError) as error:
                raise ValueError(f"tokens file {path}: not valid JSON: {error}") from None
        if not isinstance(document, dict) or not isinstance(document.get("tenants"), dict) or not document["tenants"]:
            raise ValueError(f'tokens file {path}: expected {{"tenants": {{name: {{...}}, ...}}}}')
        tenants = {}
        for name, entry in document["tenants"].items():
            digest, tenant = _tenant_from(name, entry)
            if digest in tenants:
                raise ValueError(f"tokens file {path}: tenants {tenants[digest].name!r} and {name!r} share a token")
            tenants[digest] = tenant
        return cls(tenants)

    @property
    def enabled(self):
        return bool(self.tenants)

    def authenticate(self, header):
        """The tenant of an Authorization header (ANONYMOUS when access control is off); 401 otherwise."""
        if not self.tenants:
            return ANONYMOUS
        scheme, _, token = (header or "").strip().partition(" ")
        challenge = 'Bearer realm="tinygrad_maas"'
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(401, "missing bearer token (Authorization: Bearer <token>)", {"www-authenticate": challenge})
        tenant = self.tenants.get(_digest(token.strip()))
        if tenant is None:
            raise ApiError(401, "wrong bearer token", {"www-authenticate": challenge + ', error="invalid_token"'})
        return tenant

    @staticmethod
    def authorize(tenant, scope, model=None):
        """403 unless the tenant holds the scope (and may use the model)."""
        if tenant is ANONYMOUS:
            return
        if scope not in tenant.scopes:
            raise ApiError(403, f"tenant {tenant.name!r} lacks the {scope!r} scope for this endpoint")
        if model is not None and not tenant.may_use(model):
            raise ApiError(403, f"tenant {tenant.name!r} may not use model {model!r}")


def read_token_file(path):
    """The token in a file (its first line, stripped): how a single token reaches the server without
    appearing in the process list."""
    with open(path, encoding="utf-8") as file:
        token = file.readline().strip()
    if len(token) < 16:
        raise ValueError(f"token file {path}: the token must be at least 16 characters")
    return token


class HostAllowList:
    """Requests must name an allowed Host: on loopback this stops DNS rebinding (a web page whose domain
    resolves to 127.0.0.1 cannot reach the server from a browser). "*" allows any host."""

    LOOPBACK = ("localhost", "127.0.0.1", "::1")

    def __init__(self, hosts):
        self.hosts = {host.lower().strip("[]") for host in hosts}

    @classmethod
    def default_for(cls, bind_host):
        return cls(cls.LOOPBACK if bind_host in cls.LOOPBACK else ("*",))

    def check(self, host_header):
        if "*" in self.hosts:
            return
        host = (host_header or "").strip().lower()
        if host.startswith("["):  # [::1]:8000
            host = host[1 : host.find("]")] if "]" in host else host
        elif host.count(":") == 1:
            host = host.split(":")[0]
        if host not in self.hosts:
            raise ApiError(
                400,
                f"Host {host_header[:100]!r} is not served here (allowed: {sorted(self.hosts)})"
                if host_header
                else "the request has no Host header",
            )
