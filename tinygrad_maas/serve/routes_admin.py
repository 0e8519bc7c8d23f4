"""Operating the server: the repository index and model control (Triton's model repository extension),
Prometheus metrics, the page at / and the OpenAPI document.

POST /v2/repository/models/{m}/load and /unload exist only with --model-control-mode explicit (as in
Triton); both need the admin scope, as do the index and /metrics.
"""

import asyncio

from .app import guard, json_response, route
from .body import read_body
from .errors import ApiError
from .protocol import parse_json_object
from .repository import check_name


async def _body_object(request, context):
    return parse_json_object(await read_body(request, 64 * 1024))


async def repository_index(request, context, tenant):
    payload = await _body_object(request, context)
    ready_only = payload.get("ready", False)
    if not isinstance(ready_only, bool):
        raise ApiError(400, f"'ready' must be true or false, got {ready_only!r:.40}")
    return json_response(context.repository.index(ready_only))


async def load(request, context, tenant):
    name = check_name(request.path_params["model"])
    payload = await _body_object(request, context)
    if payload.get("parameters"):
        raise ApiError(400, "load parameters (such as a config override) are not supported; edit config.json")
    if name not in context.repository.scan({name}):
        raise ApiError(404, f"no model {name!r} in the repository")
    await asyncio.get_running_loop().run_in_executor(None, context.repository.refresh, {name})
    failed = [e for e in context.repository.index() if e["name"] == name and e["state"] != "READY"]
    if failed:
        raise ApiError(
            400,
            f"model {name!r} failed to load: " + "; ".join(f"version {e['version']}: {e['reason']}" for e in failed),
        )
    return json_response({})


async def unload(request, context, tenant):
    name = check_name(request.path_params["model"])
    await _body_object(request, context)
    context.repository.unload_model(name)
    return json_response({})


async def prometheus(request, context, tenant):
    from starlette.responses import Response

    return Response(context.metrics.render(), media_type="text/plain; version=0.0.4")


async def page(request, context, tenant):
    from starlette.responses import HTMLResponse

    from .page import PAGE

    return HTMLResponse(
        PAGE,
        headers={
            "content-security-policy": "default-src 'self'; script-src 'self' "
            "'unsafe-inline'; style-src 'unsafe-inline'",
            "x-content-type-options": "nosniff",
        },
    )


async def openapi(request, context, tenant):
    from .openapi import document

    return json_response(document(context.settings.model_control_mode == "explicit"))


def routes(context):
    def model(request):
        return request.path_params["model"]

    found = [
        route("/", guard(context, page)),
        route("/openapi.json", guard(context, openapi)),
        route("/metrics", guard(context, prometheus, "admin")),
        route("/v2/repository/index", guard(context, repository_index, "admin"), ("POST",)),
    ]
    if context.settings.model_control_mode == "explicit":
        found += [
            route("/v2/repository/models/{model}/load", guard(context, load, "admin", model), ("POST",)),
            route("/v2/repository/models/{model}/unload", guard(context, unload, "admin", model), ("POST",)),
        ]
    return found
