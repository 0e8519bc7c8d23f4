"""The HTTP server's app: routes of each protocol, behind one guard, over one model repository.

    GET  /v2/health/live  /v2/health/ready                            health (no token needed)
    GET  /v2   /v2/models/{m}[/versions/{v}][/ready]                  server and model metadata, readiness
    POST /v2/models/{m}[/versions/{v}]/infer                          inference, JSON or binary tensors
    POST /v2/repository/index                                         every version's state (admin)
    POST /v2/repository/models/{m}/load | unload                      model control (admin; explicit mode)
    GET  /v1/models   /v1/models/{m}                                  KServe v1 / TF-Serving listing, status
    POST /v1/models/{m}[/versions/{v}]:predict | :explain             TF-Serving predict, KServe v1 explain
    POST /v1/embeddings   /v1/completions                             OpenAI's text endpoints (text models)
    GET  /metrics                                                     Prometheus counters (admin)
    GET  /   /openapi.json                                            the page; this API described

Every request passes the guard (guard() below): Host allow-list, bearer token -> tenant (401), the
endpoint's scope and model (403), the tenant's quotas (429), then the handler under the request timeout
(503). Errors are {"error": "..."}; a client's mistake is a 4xx naming the field, never a 500.
"""

import asyncio
import contextlib
import functools

from .auth import ANONYMOUS, AccessControl, HostAllowList
from .errors import ApiError, within
from .quotas import Quotas
from .settings import ServerSettings


class ServerContext:
    """What every route needs: the repository, the limits, access control, quotas and metrics."""

    def __init__(self, repository, settings, access, hosts, metrics):
        self.repository, self.settings, self.access, self.hosts = repository, settings, access, hosts
        self.metrics, self.quotas = metrics, Quotas(metrics)
        self.in_flight, self.requests_seen = 0, 0  # for giving memory back when idle (_trim_when_idle)
        self.open_streams = 0  # streamed completions being sent (routes_openai.py)

    @contextlib.contextmanager
    def counted(self, version):
        """Count one inference-like request of a model version as a success or a failure."""
        try:
            yield
        except BaseException:
            self.metrics.request(version, ok=False)
            raise
        self.metrics.request(version, ok=True)


def json_response(content, status=200, headers=None):
    from starlette.responses import Response

    from .protocol import json_dumps

    return Response(json_dumps(content), status_code=status, headers=headers, media_type="application/json")


def error_response(problem, openai=False):
    """{"error": message}; OpenAI's endpoints answer {"error": {"message", "type", "param", "code"}}."""
    if not openai:
        return json_response({"error": problem.message}, problem.status, problem.headers)
    kind = "invalid_request_error" if problem.status < 500 else "server_error"
    content = {"error": {"message": problem.message, "type": kind, "param": None, "code": None}}
    return json_response(content, problem.status, problem.headers)


class guard:
    """The ASGI endpoint for `handler(request, context, tenant)`, behind the checks every request passes.
    scope None: public (no Host check, no token). A plain ASGI callable, so Starlette's Route calls it
    directly, without wrapping each request in layers of its own."""

    def __init__(self, context, handler, scope=None, model_of=None, openai_errors=False):
        self.context, self.handler, self.scope, self.model_of = context, handler, scope, model_of
        self.openai_errors = openai_errors

    async def __call__(self, scope, receive, send):
        from starlette.requests import Request

        response = await self.respond(Request(scope, receive, send))
        await response(scope, receive, send)

    async def respond(self, request):
        context = self.context
        context.in_flight += 1
        context.requests_seen += 1
        try:
            tenant = ANONYMOUS
            if self.scope is not None:
                context.hosts.check(request.headers.get("host"))
                tenant = context.access.authenticate(request.headers.get("authorization"))
                context.access.authorize(tenant, self.scope, self.model_of(request) if self.model_of else None)
            with context.quotas.admit(tenant):
                return await within(self.handler(request, context, tenant), context.settings.request_timeout)
        except ApiError as problem:
            return error_response(problem, self.openai_errors)
        except asyncio.TimeoutError:
            context.metrics.rejected("request_timeout")
            seconds = context.settings.request_timeout
            problem = ApiError(503, f"no answer within the request timeout of {seconds:g} seconds")
            return error_response(problem, self.openai_errors)
        except Exception as problem:  # noqa: BLE001 - the server's own failure, said as 500
            problem = ApiError(500, f"internal error: {type(problem).__name__}: {problem}")
            return error_response(problem, self.openai_errors)
        finally:
            context.in_flight -= 1


def route(path, endpoint, methods=("GET",)):
    """Starlette's Route, answering a method it does not take with a JSON 405 (Starlette's own 405 is text,
    or an exception only its full application class catches)."""
    return _api_route_class()(path, endpoint, methods=list(methods))


@functools.lru_cache(maxsize=None)
def _api_route_class():
    from starlette.routing import Route

    class ApiRoute(Route):
        async def handle(self, scope, receive, send):
            if scope["method"] in self.methods:
                return await self.app(scope, receive, send)
            allowed = ", ".join(sorted(self.methods))
            problem = ApiError(405, f"{scope['method']} is not allowed here (allowed: {allowed})", {"allow": allowed})
            await error_response(problem)(scope, receive, send)

    return ApiRoute


def create_app(repository, settings=None, access=None, hosts=None):
    """The ASGI app over a ModelRepository (loaded, or loaded at start-up by the lifespan): Starlette's
    Router over the routes of each protocol; the guard does what Starlette's app would add (errors)."""
    from starlette.routing import Router

    from . import routes_admin, routes_openai, routes_v1, routes_v2

    settings = settings or repository.settings or ServerSettings()
    context = ServerContext(
        repository, settings, access or AccessControl(), hosts or HostAllowList(["*"]), repository.metrics
    )
    routes = (
        routes_v2.routes(context)
        + routes_openai.routes(context)
        + routes_v1.routes(context)
        + routes_admin.routes(context)
    )

    async def not_found(scope, receive, send):
        if scope["type"] == "http":
            problem = ApiError(404, f"no endpoint {scope['method']} {scope['path'][:200]}")
            await error_response(problem)(scope, receive, send)

    return Router(routes=routes, default=not_found, lifespan=lambda app: _lifespan(context))


@contextlib.asynccontextmanager
async def _lifespan(context):
    """Run the repository's model retirements in this loop, poll the disk if asked, and on shutdown let
    the queued requests finish."""
    loop = asyncio.get_running_loop()
    context.repository.retire = lambda scheduler, reason: loop.call_soon_threadsafe(scheduler.retire, reason)
    tasks = [loop.create_task(_trim_when_idle(context))]
    if context.settings.model_control_mode == "poll":
        tasks.append(loop.create_task(_poll(context)))
    yield
    for task in tasks:
        task.cancel()
    schedulers = [entry.model.scheduler for entry in list(context.repository.versions.values()) if entry.model]
    await asyncio.gather(*(scheduler.drain(context.settings.shutdown_timeout) for scheduler in schedulers))
    for scheduler in schedulers:
        scheduler.retire("the server is shutting down")  # its idle worker threads end
    context.repository.close()


async def _trim_when_idle(context, every=2.0):
    """After a burst of requests, once nothing has been in flight for a check interval, give the freed
    memory back to the system (memory.release_free_memory), so resident memory returns to its level before."""
    from ..memory import release_free_memory

    trimmed_at = 0
    while True:
        seen = context.requests_seen
        await asyncio.sleep(every)
        if context.in_flight == 0 and context.requests_seen == seen and seen != trimmed_at:
            await asyncio.get_running_loop().run_in_executor(None, release_free_memory)
            trimmed_at = seen


async def _poll(context):
    """Follow the repository on disk: new versions load, removed ones unload, changed ones reload."""
    while True:
        await asyncio.sleep(context.settings.poll_seconds)
        try:
            await asyncio.get_running_loop().run_in_executor(None, context.repository.refresh)
        except Exception as problem:  # noqa: BLE001 - a bad repository state must not stop the server
            context.repository.log(f"polling the repository failed: {type(problem).__name__}: {problem}")
