"""The OpenAPI 3.0 document served at /openapi.json: every endpoint, its parameters, bodies and answers.

It is what a client generator or a fuzzer starts from; tests/serve/test_fuzz.py drives the running server
from it with schemathesis and expects no 5xx and no hang.
"""

from .. import __version__

_NAME = {"type": "string", "pattern": "^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$"}
_VERSION = {"type": "string", "pattern": "^[1-9][0-9]{0,17}$"}
_ERROR = {
    "description": "the problem, named",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}
_COMMON_ERRORS = {
    "400": _ERROR,
    "401": _ERROR,
    "403": _ERROR,
    "404": _ERROR,
    "408": _ERROR,
    "413": _ERROR,
    "429": _ERROR,
    "503": _ERROR,
}


def _path_parameter(name, schema):
    return {"name": name, "in": "path", "required": True, "schema": schema}


def _operation(summary, responses, parameters=(), body=None, secured=True):
    operation = {
        "summary": summary,
        "parameters": list(parameters),
        "responses": {**responses, **(_COMMON_ERRORS if secured else {})},
    }
    if body is not None:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    if not secured:
        operation["security"] = []
    return operation


def _json(schema, description="OK"):
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _ref(name):
    return {"$ref": f"#/components/schemas/{name}"}


_SCHEMAS = {
    "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}},
    "Tensor": {
        "type": "object",
        "required": ["name", "datatype", "shape"],
        "properties": {
            "name": {"type": "string"},
            "datatype": {
                "type": "string",
                "enum": [
                    "BOOL",
                    "UINT8",
                    "UINT16",
                    "UINT32",
                    "UINT64",
                    "INT8",
                    "INT16",
                    "INT32",
                    "INT64",
                    "FP16",
                    "FP32",
                    "FP64",
                    "BYTES",
                ],
            },
            "shape": {"type": "array", "items": {"type": "integer"}},
            "parameters": {"type": "object"},
            "data": {"type": "array"},
        },
    },
    "InferenceRequest": {
        "type": "object",
        "required": ["inputs"],
        "properties": {
            "id": {"type": "string"},
            "parameters": {
                "type": "object",
                "properties": {
                    "binary_data_output": {"type": "boolean"},
                    "priority": {"type": "integer", "minimum": 0},
                    "timeout": {"type": "integer", "minimum": 0},
                },
            },
            "inputs": {"type": "array", "items": _ref("Tensor")},
            "outputs": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"name": {"type": "string"}, "parameters": {"type": "object"}},
                },
            },
        },
    },
    "InferenceResponse": {
        "type": "object",
        "required": ["model_name", "outputs"],
        "properties": {
            "model_name": {"type": "string"},
            "model_version": {"type": "string"},
            "id": {"type": "string"},
            "outputs": {"type": "array", "items": _ref("Tensor")},
        },
    },
    "ModelMetadata": {
        "type": "object",
        "required": ["name", "versions", "platform", "inputs", "outputs"],
        "properties": {
            "name": {"type": "string"},
            "versions": {"type": "array", "items": {"type": "string"}},
            "platform": {"type": "string"},
            "inputs": {"type": "array", "items": _ref("Tensor")},
            "outputs": {"type": "array", "items": _ref("Tensor")},
        },
    },
    "Rows": {
        "type": "object",
        "properties": {
            "instances": {"type": "array"},
            "inputs": {},
            "parameters": {
                "type": "object",
                "properties": {
                    "method": {"type": "string", "enum": ["saliency", "integrated_gradients"]},
                    "target": {"type": "integer", "minimum": 0},
                    "steps": {"type": "integer", "minimum": 1},
                    "baseline": {"type": "array"},
                },
            },
        },
    },
    "OpenAIError": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["message", "type"],
                "properties": {"message": {"type": "string"}, "type": {"type": "string"}},
            }
        },
    },
    "EmbeddingsRequest": {
        "type": "object",
        "required": ["model", "input"],
        "properties": {
            "model": {"type": "string"},
            "input": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
            "encoding_format": {"type": "string", "enum": ["float", "base64"]},
            "dimensions": {"type": "integer"},
            "user": {"type": "string"},
            "truncate": {"type": "boolean"},
        },
    },
    "CompletionsRequest": {
        "type": "object",
        "required": ["model", "prompt"],
        "properties": {
            "model": {"type": "string"},
            "prompt": {"type": "string"},
            "max_tokens": {"type": "integer", "minimum": 1},
            "temperature": {"type": "number", "minimum": 0, "maximum": 2},
            "top_p": {"type": "number", "minimum": 0, "exclusiveMinimum": True, "maximum": 1},
            "stop": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}, "maxItems": 4}]},
            "seed": {"type": "integer", "minimum": 0},
            "stream": {"type": "boolean"},
        },
    },
    "IndexEntry": {
        "type": "object",
        "required": ["name", "state", "reason"],
        "properties": {
            "name": {"type": "string"},
            "version": {"type": "string"},
            "state": {"type": "string", "enum": ["READY", "LOADING", "UNAVAILABLE"]},
            "reason": {"type": "string"},
        },
    },
}


def _model_paths():
    model, version = _path_parameter("model", _NAME), _path_parameter("version", _VERSION)
    paths = {}
    for prefix, parameters in (
        ("/v2/models/{model}", [model]),
        ("/v2/models/{model}/versions/{version}", [model, version]),
    ):
        paths[prefix] = {"get": _operation("model metadata", {"200": _json(_ref("ModelMetadata"))}, parameters)}
        paths[prefix + "/ready"] = {
            "get": _operation("model readiness", {"200": _json({"type": "object"})}, parameters)
        }
        paths[prefix + "/infer"] = {
            "post": _operation(
                "inference (JSON; the binary extension adds raw tensor bytes after the JSON header)",
                {"200": _json(_ref("InferenceResponse"))},
                parameters,
                _ref("InferenceRequest"),
            )
        }
    for prefix, parameters in (
        ("/v1/models/{model}", [model]),
        ("/v1/models/{model}/versions/{version}", [model, version]),
    ):
        paths[prefix + ":predict"] = {
            "post": _operation("TF-Serving predict", {"200": _json({"type": "object"})}, parameters, _ref("Rows"))
        }
        paths[prefix + ":explain"] = {
            "post": _operation(
                "KServe v1 explain: saliency or integrated gradients",
                {"200": _json({"type": "object", "required": ["explanations"]})},
                parameters,
                _ref("Rows"),
            )
        }
    return paths


def _openai_operation(summary, request_schema):
    """An OpenAI-compatible endpoint: its errors take OpenAI's form."""
    error = {"description": "the problem, named", "content": {"application/json": {"schema": _ref("OpenAIError")}}}
    return {
        "summary": summary,
        "parameters": [],
        "requestBody": {"required": True, "content": {"application/json": {"schema": _ref(request_schema)}}},
        "responses": {
            "200": _json({"type": "object", "required": ["usage"]}),
            **dict.fromkeys(_COMMON_ERRORS, error),
        },
    }


def document(model_control=False):
    """The OpenAPI document; model_control adds the load/unload endpoints (explicit mode)."""
    public = {"200": _json({"type": "object"}), "503": _ERROR}
    paths = {
        "/v2/health/live": {"get": _operation("liveness", public, secured=False)},
        "/v2/health/ready": {"get": _operation("readiness: some model version can answer", public, secured=False)},
        "/v2": {"get": _operation("server metadata", {"200": _json({"type": "object"})})},
        "/v1/models": {
            "get": _operation(
                "the models the caller may use", {"200": _json({"type": "object", "required": ["models"]})}
            )
        },
        "/v1/models/{model}": {
            "get": _operation(
                "TF-Serving model status", {"200": _json({"type": "object"})}, [_path_parameter("model", _NAME)]
            )
        },
        "/v2/repository/index": {
            "post": _operation(
                "every model version with its state and the reason for it (admin)",
                {"200": _json({"type": "array", "items": _ref("IndexEntry")})},
                (),
                {"type": "object", "properties": {"ready": {"type": "boolean"}}},
            )
        },
        "/v1/embeddings": {"post": _openai_operation("OpenAI embeddings (text-embedding models)", "EmbeddingsRequest")},
        "/v1/completions": {
            "post": _openai_operation(
                "OpenAI completions (text-generation models); stream: true answers server-sent events",
                "CompletionsRequest",
            )
        },
        "/metrics": {"get": _operation("Prometheus metrics (admin)", {"200": {"description": "text exposition"}})},
        **_model_paths(),
    }
    if model_control:
        for action in ("load", "unload"):
            paths[f"/v2/repository/models/{{model}}/{action}"] = {
                "post": _operation(
                    f"{action} every version of a model (admin)",
                    {"200": _json({"type": "object"})},
                    [_path_parameter("model", _NAME)],
                    {"type": "object"},
                )
            }
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "tinygrad_maas model server",
            "version": __version__,
            "description": "Open Inference Protocol (KServe v2), TF-Serving REST, KServe v1 explain and "
            "OpenAI-compatible text endpoints.",
        },
        "paths": paths,
        "components": {"schemas": _SCHEMAS, "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearer": []}],
    }
