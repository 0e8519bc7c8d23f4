"""The v1 endpoints: TF-Serving's REST API (status, :predict) and KServe's v1 protocol (model list,
:explain), on the same repository, scheduler and checks as the v2 endpoints.

    GET  /v1/models                                   {"models": [names the caller may use]}
    GET  /v1/models/{m}                               {"name", "ready", "model_version_status": [...]}
    POST /v1/models/{m}[/versions/{v}]:predict        {"instances": [rows]} or {"inputs": ...}
    POST /v1/models/{m}[/versions/{v}]:explain        {"instances": [rows], "parameters": {...}}

:explain answers {"explanations": [one per instance]}, each {"method", "target", "score", "attributions"
shaped like the instance} and, for integrated gradients, "baseline_score", "steps" and "convergence_delta"
(sum of attributions minus (score - baseline_score)). Parameters: "method" ("saliency", the default, or
"integrated_gradients"), "target" (the output index explained; default the highest scoring), "steps"
(default 128) and "baseline" (one instance; default all zeros).
"""

import numpy as np

from .app import guard, json_response, route
from .body import read_body
from .errors import ApiError
from .protocol import check_shape, json_numbers, nested_to_array, parameters_of, parse_json_object
from .repository import check_name, check_version
from .routes_v2 import LARGE_BODY_BYTES

MAX_EXPLAIN_INSTANCES = 16
DEFAULT_STEPS = 128  # completeness within 1% on the digit CNNs tried (docs/serving.md, Explanations)
METHODS = ("saliency", "integrated_gradients")


def _target(request):
    """(model name, version or None, verb) from /v1/models/{target} ("m:predict", "m/versions/2:explain")."""
    target = request.path_params["target"]
    name, _, verb = target.rpartition(":")
    parts = name.split("/")
    if verb not in ("predict", "explain") or len(parts) not in (1, 3) or (len(parts) == 3 and parts[1] != "versions"):
        raise ApiError(404, f"no endpoint POST /v1/models/{target[:200]} (use :predict or :explain)")
    return check_name(parts[0]), check_version(parts[2]) if len(parts) == 3 else None, verb


def _model_of_target(request):
    try:
        return _target(request)[0]
    except ApiError:
        return None  # the handler answers the malformed path


async def list_models(request, context, tenant):
    names = context.repository.models()
    return json_response({"models": [name for name in names if tenant is None or tenant.may_use(name)]})


async def status(request, context, tenant):
    name = check_name(request.path_params["model"])
    entries = [context.repository.resolve(name, version) for version in context.repository.models().get(name, [])]
    if not entries:
        raise ApiError(404, f"unknown model {name!r}")
    states = {"READY": "AVAILABLE", "LOADING": "LOADING", "UNAVAILABLE": "END"}
    return json_response(
        {
            "name": name,
            "ready": any(e.model is not None for e in entries),
            "model_version_status": [
                {
                    "version": e.version,
                    "state": "AVAILABLE" if e.evicted else states[e.state],
                    "status": {
                        "error_code": "OK" if e.state == "READY" or e.evicted else "UNAVAILABLE",
                        "error_message": "" if e.state == "READY" else e.reason,
                    },
                }
                for e in entries
            ],
        }
    )


def _instances(payload, spec):
    """The request's rows as one array of the model's input, checked."""
    if ("instances" in payload) == ("inputs" in payload):
        raise ApiError(400, "give exactly one of 'instances' (a list of rows) or 'inputs' (columnar)")
    rows = payload.get("instances", payload.get("inputs"))
    if isinstance(rows, dict):
        if set(rows) != {spec["name"]}:
            raise ApiError(400, f"'inputs' must name exactly the model's input {spec['name']!r}")
        rows = rows[spec["name"]]
    array = nested_to_array(rows, spec["datatype"], "instances")
    check_shape(list(array.shape), spec["shape"], "instances")
    return array


def explain_options(payload, settings, sample_shape, datatype):
    parameters = parameters_of(payload, "request")
    method, target = parameters.get("method", "saliency"), parameters.get("target")
    steps, baseline = parameters.get("steps", DEFAULT_STEPS), parameters.get("baseline")
    if method not in METHODS:
        raise ApiError(400, f"parameters.method must be one of {list(METHODS)}, got {method!r:.40}")
    if target is not None and (isinstance(target, bool) or not isinstance(target, int) or target < 0):
        raise ApiError(400, f"parameters.target must be a non-negative integer, got {target!r:.40}")
    if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= settings.max_explain_steps:
        raise ApiError(
            400, f"parameters.steps must be an integer from 1 to {settings.max_explain_steps}, got {steps!r:.40}"
        )
    if baseline is not None:
        baseline = nested_to_array(baseline, datatype, "parameters.baseline")
        if tuple(baseline.shape) != tuple(sample_shape):
            raise ApiError(
                400, f"parameters.baseline has shape {list(baseline.shape)}, an instance has {list(sample_shape)}"
            )
    return {"method": method, "target": target, "steps": steps, "baseline": baseline}


def _decode(body, model):
    payload, spec = parse_json_object(body), model.inputs[0]
    arrays = model.check_inputs({spec["name"]: _instances(payload, spec)}, parameters_of(payload, "request"))
    return payload, arrays[spec["name"]]


async def predict_or_explain(request, context, tenant):
    from starlette.concurrency import run_in_threadpool

    name, version, verb = _target(request)
    _, model = await context.repository.acquire(name, version)
    scheduler = model.scheduler
    with scheduler.held(), context.counted(model):
        body, spec = await read_body(request, context.settings.max_body_bytes), model.inputs[0]
        if len(body) > LARGE_BODY_BYTES:
            payload, array = await run_in_threadpool(_decode, body, model)
        else:
            payload, array = _decode(body, model)
        level = scheduler.config.priority(None, tenant.priority if tenant else None)
        if verb == "predict":
            ((output_name, result),) = (await scheduler.infer({spec["name"]: array}, level)).items()
            values = json_numbers(output_name, result)  # a clear error for what JSON cannot carry
            if result.dtype.kind == "O":  # BYTES: the decoded strings, in the output's shape
                result = np.array(values, dtype=object).reshape(result.shape)
            return json_response({"predictions" if "instances" in payload else "outputs": result.tolist()})
        if len(array) > MAX_EXPLAIN_INSTANCES:
            raise ApiError(400, f"at most {MAX_EXPLAIN_INSTANCES} instances per explanation, got {len(array)}")
        options = explain_options(payload, context.settings, array.shape[1:], spec["datatype"])
        explanations = await scheduler.call(
            lambda: [model.explain(array[i : i + 1], options) for i in range(len(array))], level
        )
        return json_response({"explanations": explanations})


def routes(context):
    return [
        route("/v1/models", guard(context, list_models, "metadata")),
        route("/v1/models/{model}", guard(context, status, "metadata", lambda r: r.path_params["model"])),
        route("/v1/models/{target:path}", guard(context, predict_or_explain, "infer", _model_of_target), ("POST",)),
    ]
