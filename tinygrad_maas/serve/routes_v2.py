"""The Open Inference Protocol (KServe v2 / Triton) endpoints: health, metadata, readiness, inference."""

from .. import __version__
from .app import guard, json_response, route
from .body import read_body
from .errors import ApiError
from .protocol import (
    decode_inputs,
    encode_response,
    parameters_of,
    request_id,
    requested_outputs,
    scheduling_parameters,
    split_body,
)

# Bodies above this are decoded in a worker thread, so one large request does not hold up the event loop.
LARGE_BODY_BYTES = 64 * 1024


def model_name(request):
    return request.path_params["model"]


async def live(request, context, tenant):
    return json_response({"live": True})


async def ready(request, context, tenant):
    is_ready = context.repository.ready()
    return json_response({"ready": is_ready}, 200 if is_ready else 503)


async def server_metadata(request, context, tenant):
    return json_response(
        {"name": "tinygrad_maas", "version": __version__, "extensions": ["binary_tensor_data", "model_repository"]}
    )


async def model_metadata(request, context, tenant):
    params = request.path_params
    entry = context.repository.resolve(params["model"], params.get("version"))
    if entry.signature is None:
        raise ApiError(503, f"model {entry.name!r} version {entry.version} is unavailable: {entry.reason}")
    return json_response(
        {
            "name": entry.name,
            "versions": context.repository.models().get(entry.name, []),
            "platform": "tinygrad_maas",
            **entry.signature,
        }
    )


async def model_ready(request, context, tenant):
    params = request.path_params
    entry = context.repository.resolve(params["model"], params.get("version"))
    if entry.model is None and not entry.evicted:
        raise ApiError(503, f"model {entry.name!r} version {entry.version} is not ready: {entry.reason}")
    return json_response({"name": entry.name, "version": entry.version, "ready": True})


def _decode(body, header_length, model):
    payload, binary = split_body(body, header_length)
    arrays = model.check_inputs(decode_inputs(payload, binary, model.inputs), parameters_of(payload, "request"))
    wanted = requested_outputs(payload, [spec["name"] for spec in model.outputs])
    return arrays, wanted, scheduling_parameters(payload), request_id(payload)


async def infer(request, context, tenant):
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import Response

    params = request.path_params
    _, model = await context.repository.acquire(params["model"], params.get("version"))
    scheduler = model.scheduler
    with scheduler.held(), context.counted(model):
        body = await read_body(request, context.settings.max_body_bytes)
        header_length = request.headers.get("inference-header-content-length")
        if len(body) > LARGE_BODY_BYTES:
            arrays, wanted, (priority, timeout), identifier = await run_in_threadpool(
                _decode, body, header_length, model
            )
        else:
            arrays, wanted, (priority, timeout), identifier = _decode(body, header_length, model)
        level = scheduler.config.priority(priority, tenant.priority if tenant else None)
        outputs = await scheduler.infer(arrays, level, timeout)
        content, headers = encode_response(model.name, model.version, outputs, wanted, identifier)
    return Response(content, headers=headers)


def routes(context):
    def endpoint(path, handler, scope, methods=("GET",)):
        return route(path, guard(context, handler, scope, model_name if "{model}" in path else None), methods)

    return [  # the busiest first: Starlette tries routes in order
        endpoint("/v2/models/{model}/infer", infer, "infer", ("POST",)),
        endpoint("/v2/models/{model}/versions/{version}/infer", infer, "infer", ("POST",)),
        endpoint("/v2/health/live", live, None),
        endpoint("/v2/health/ready", ready, None),
        endpoint("/v2", server_metadata, "metadata"),
        endpoint("/v2/models/{model}", model_metadata, "metadata"),
        endpoint("/v2/models/{model}/versions/{version}", model_metadata, "metadata"),
        endpoint("/v2/models/{model}/ready", model_ready, "metadata"),
        endpoint("/v2/models/{model}/versions/{version}/ready", model_ready, "metadata"),
    ]
