"""The HTTP server: Open Inference Protocol (KServe v2) and TensorFlow-Serving-style REST over one model
repository, on Starlette (the `serve` extra: pip install "tinygrad_maas[serve]").

    GET  /v2/health/live  /v2/health/ready  /v2                      server
    GET  /v2/models/{m}[/versions/{v}]  .../ready                     model metadata, readiness
    POST /v2/models/{m}[/versions/{v}]/infer                          inference (JSON or binary tensors)
    GET  /v1/models/{m}                                               TF-Serving status
    GET  /metrics                                                     Prometheus counters (metrics.py)
    GET  /                                                            a page to look at and try the models
    POST /v1/models/{m}[/versions/{v}]:predict                        TF-Serving predict (instances / inputs)

Every error is {"error": "..."} with 400 (bad argument), 401 (no or wrong token), 404 (unknown model or
version), 413 (body too large), 503 (not ready) or 500. With a token, every endpoint but the health checks
needs "Authorization: Bearer <token>".
"""

import asyncio
import contextlib
import hmac
import json
import time

import numpy as np

from .. import __version__
from .batching import Batcher
from .metrics import Metrics
from .protocol import ApiError, decode_inputs, encode_response, json_loads, json_numbers, split_body
from .repository import check_name, check_version


def create_app(repository, token=None, max_body_bytes=16 * 1024 * 1024, max_batch_size=32, max_queue_delay_us=0,
               poll_seconds=None):
    """The ASGI app. max_batch_size > 1 turns on dynamic batching (batching.py); 1 runs each request alone.
    poll_seconds: look for new model versions in the repository this often (None: never)."""
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    metrics = Metrics()
    batchers = {}

    def error(status, message):
        return JSONResponse({"error": message}, status_code=status)

    async def run_model(model, arrays):
        """The model's outputs for these inputs: through the model's batcher, or directly."""
        started = time.perf_counter()
        if max_batch_size > 1:
            key = (model.name, model.version)
            if key not in batchers:
                batchers[key] = Batcher(model, metrics, max_batch_size, max_queue_delay_us)
            return await batchers[key].infer(arrays)
        outputs = await run_in_threadpool(model.predict, arrays)
        rows = next(iter(arrays.values())).shape[0]
        metrics.executed(model, 1, rows, 0.0, time.perf_counter() - started)
        return outputs

    async def read_body(request):
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > max_body_bytes:
            raise ApiError(413, f"request body of {declared} bytes exceeds the limit of {max_body_bytes}")
        chunks, size = [], 0
        async for chunk in request.stream():
            chunks.append(chunk)
            size += len(chunk)
            if size > max_body_bytes:
                raise ApiError(413, f"request body exceeds the limit of {max_body_bytes} bytes")
        return b"".join(chunks)

    def guarded(handler, public=False):
        async def endpoint(request):
            try:
                if token is not None and not public:
                    sent = request.headers.get("authorization", "")
                    if not hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
                        raise ApiError(401, "missing or wrong bearer token (Authorization: Bearer <token>)")
                return await handler(request)
            except ApiError as problem:
                return error(problem.status, problem.message)
            except Exception as problem:  # noqa: BLE001 - any other failure is the server's, said as 500
                return error(500, f"internal error: {type(problem).__name__}: {problem}")
        return endpoint

    def model_from(request):
        params = request.path_params
        return repository.get(params["model"], params.get("version"))

    async def live(request):
        return JSONResponse({"live": True})

    async def ready(request):
        is_ready = bool(repository.models) and all(m.ready for vs in repository.models.values() for m in vs.values())
        return JSONResponse({"ready": is_ready}, status_code=200 if is_ready else 503)

    async def server_metadata(request):
        return JSONResponse({"name": "tinygrad_maas", "version": __version__, "extensions": ["binary_tensor_data"]})

    async def model_metadata(request):
        model = model_from(request)
        return JSONResponse({"name": model.name, "versions": sorted(repository.models[model.name], key=int),
                             "platform": "tinygrad_maas", "inputs": model.inputs, "outputs": model.outputs})

    async def model_ready(request):
        model = model_from(request)
        if not model.ready:
            raise ApiError(503, f"model {model.name!r} version {model.version} is not ready")
        return JSONResponse({"name": model.name, "ready": True})

    async def infer(request):
        model = model_from(request)
        if not model.ready:
            raise ApiError(503, f"model {model.name!r} version {model.version} is not ready")
        try:
            body = await read_body(request)
            payload, binary = split_body(body, request.headers.get("inference-header-content-length"))
            arrays = decode_inputs(payload, binary, model.inputs)
            outputs = await run_model(model, arrays)
            content, headers = encode_response(model.name, model.version, outputs, payload)
        except Exception:
            metrics.request(model, ok=False)
            raise
        metrics.request(model, ok=True)
        return Response(content, headers=headers)

    async def tf_status(request):
        name = check_name(request.path_params["model"])
        versions = repository.models.get(name)
        if not versions:
            raise ApiError(404, f"unknown model {name!r}")
        return JSONResponse({"model_version_status": [
            {"version": v, "state": "AVAILABLE" if m.ready else "LOADING",
             "status": {"error_code": "OK", "error_message": ""}} for v, m in sorted(versions.items())]})

    async def tf_predict(request):
        target = request.path_params["target"]
        if not target.endswith(":predict"):
            raise ApiError(404, f"unknown endpoint /v1/models/{target}")
        parts = target[:-len(":predict")].split("/")
        if len(parts) == 1:
            model = repository.get(parts[0])
        elif len(parts) == 3 and parts[1] == "versions":
            model = repository.get(parts[0], check_version(parts[2]))
        else:
            raise ApiError(404, f"unknown endpoint /v1/models/{target}")
        if not model.ready:
            raise ApiError(503, f"model {model.name!r} is not ready")
        try:
            payload = json_loads(await read_body(request))
        except (UnicodeDecodeError, json.JSONDecodeError) as problem:
            raise ApiError(400, f"the request is not valid JSON: {problem}") from None
        spec = model.inputs[0]
        if not isinstance(payload, dict) or ("instances" in payload) == ("inputs" in payload):
            raise ApiError(400, "give exactly one of 'instances' (a list of rows) or 'inputs' (columnar)")
        rows = payload.get("instances", payload.get("inputs"))
        if isinstance(rows, dict):
            rows = rows.get(spec["name"])
        try:
            array = np.asarray(rows, dtype=np.float32 if spec["datatype"] == "FP32" else None)
        except (TypeError, ValueError) as problem:
            raise ApiError(400, f"'instances' must be numbers of the model's input shape: {problem}") from None
        request_json = {"inputs": [{"name": spec["name"], "datatype": spec["datatype"], "shape": list(array.shape),
                                    "data": array.reshape(-1).tolist()}]}
        arrays = decode_inputs(request_json, b"", model.inputs)
        outputs = await run_model(model, arrays)
        metrics.request(model, ok=True)
        ((name, result),) = outputs.items()
        json_numbers(name, result)  # a clear error for NaN or infinity, which JSON cannot carry
        key = "predictions" if "instances" in payload else "outputs"
        return JSONResponse({key: result.tolist()})

    async def home(request):
        from starlette.responses import HTMLResponse

        from .page import render

        return HTMLResponse(render(repository))

    async def prometheus(request):
        return Response(metrics.render(), media_type="text/plain; version=0.0.4")

    routes = [
        Route("/", guarded(home)),
        Route("/metrics", guarded(prometheus)),
        Route("/v2/health/live", guarded(live, public=True)),
        Route("/v2/health/ready", guarded(ready, public=True)),
        Route("/v2", guarded(server_metadata)),
        Route("/v2/models/{model}", guarded(model_metadata)),
        Route("/v2/models/{model}/versions/{version}", guarded(model_metadata)),
        Route("/v2/models/{model}/ready", guarded(model_ready)),
        Route("/v2/models/{model}/versions/{version}/ready", guarded(model_ready)),
        Route("/v2/models/{model}/infer", guarded(infer), methods=["POST"]),
        Route("/v2/models/{model}/versions/{version}/infer", guarded(infer), methods=["POST"]),
        Route("/v1/models/{model}", guarded(tf_status)),
        Route("/v1/models/{target:path}", guarded(tf_predict), methods=["POST"]),
    ]

    async def not_found(request, exc):
        return error(getattr(exc, "status_code", 404), f"no endpoint {request.method} {request.url.path}")

    @contextlib.asynccontextmanager
    async def lifespan(app):
        poller = asyncio.get_running_loop().create_task(poll()) if poll_seconds else None
        yield
        if poller:
            poller.cancel()

    async def poll():
        """Load versions that appeared on disk (an export is atomic, so a version is complete or absent)."""
        while True:
            await asyncio.sleep(poll_seconds)
            try:
                for name, version in await run_in_threadpool(repository.load_all):
                    print(f"loaded new model version {name}/{version}")
            except Exception as problem:  # noqa: BLE001 - a bad version must not stop the server
                print(f"could not load a new model version: {type(problem).__name__}: {problem}")

    return Starlette(routes=routes, exception_handlers={404: not_found, 405: not_found}, lifespan=lifespan)
