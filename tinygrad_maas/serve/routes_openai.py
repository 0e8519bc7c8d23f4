"""OpenAI-compatible text endpoints, for the clients and libraries that speak OpenAI's API.

    POST /v1/embeddings    {"model": name, "input": "text" | ["text", ...], "encoding_format": "float" | "base64"}
        -> {"object": "list", "data": [{"object": "embedding", "index": i, "embedding": [...] | "base64"}],
            "model": name, "usage": {"prompt_tokens": n, "total_tokens": n}}

base64 is the float32 vector's little-endian bytes, base64-encoded (what the openai client asks for by
default and decodes with numpy). Token counts are the model's own tokens, [CLS] and [SEP] included.
"dimensions" is accepted only as the model's own size (its vectors cannot be shortened); token-id inputs
are refused, as the model's vocabulary is not OpenAI's. The model named in the body is authorised like a
path's model. Errors take OpenAI's form: {"error": {"message", "type", "param", "code"}}.
"""

import base64

import numpy as np

from .app import guard, json_response, route
from .body import read_body
from .errors import ApiError
from .protocol import parse_json_object
from .routes_v2 import LARGE_BODY_BYTES
from .text_model import TextEmbeddingModel

ENCODINGS = ("float", "base64")
_FIELDS = {"model", "input", "encoding_format", "dimensions", "user", "truncate"}


def _request(payload, model):
    """(texts, token count, encoding) of an embeddings request, every field checked."""
    unknown = sorted(set(payload) - _FIELDS)
    if unknown:
        raise ApiError(400, f"unknown field(s) {unknown}; an embeddings request takes {sorted(_FIELDS)}")
    texts, encoding = payload.get("input"), payload.get("encoding_format", "float")
    if isinstance(texts, str):
        texts = [texts]
    if not isinstance(texts, list) or not all(isinstance(text, str) for text in texts):
        raise ApiError(400, "'input' must be a string or a list of strings (token ids are not accepted)")
    if not texts:
        raise ApiError(400, "'input' is an empty list: give at least one string")
    if encoding not in ENCODINGS:
        raise ApiError(400, f"'encoding_format' must be one of {list(ENCODINGS)}, got {encoding!r:.40}")
    dimensions = payload.get("dimensions")
    if dimensions is not None and dimensions != model.outputs[0]["shape"][1]:
        raise ApiError(
            400, f"'dimensions' must be the model's own {model.outputs[0]['shape'][1]} (vectors are not shortened)"
        )
    truncate = payload.get("truncate", False)
    if not isinstance(truncate, bool):
        raise ApiError(400, f"'truncate' must be true or false, got {truncate!r:.40}")
    texts, tokens = model.texts(texts, truncate, "input")
    return texts, tokens, encoding


def _model_name(payload):
    name = payload.get("model")
    if not isinstance(name, str) or not name:
        raise ApiError(400, "'model' must name a text-embedding model of this server")
    return name


async def embeddings(request, context, tenant):
    from starlette.concurrency import run_in_threadpool

    body = await read_body(request, context.settings.max_body_bytes)
    payload = parse_json_object(body)
    name = _model_name(payload)
    context.access.authorize(tenant, "infer", name)
    _, model = await context.repository.acquire(name)
    if not isinstance(model, TextEmbeddingModel):
        raise ApiError(400, f"model {name!r} is not a text-embedding model")
    scheduler = model.scheduler
    with scheduler.held(), context.counted(model):
        if len(body) > LARGE_BODY_BYTES:
            texts, tokens, encoding = await run_in_threadpool(_request, payload, model)
        else:
            texts, tokens, encoding = _request(payload, model)
        array = np.empty(len(texts), dtype=object)
        array[:] = texts
        level = scheduler.config.priority(None, tenant.priority if tenant else None)
        vectors = (await scheduler.infer({"text": array}, level))["embedding"]
    if encoding == "base64":
        little = vectors.astype("<f4", copy=False)
        encoded = [base64.b64encode(row.tobytes()).decode("ascii") for row in little]
    else:
        encoded = vectors.tolist()
    return json_response(
        {
            "object": "list",
            "data": [{"object": "embedding", "index": i, "embedding": e} for i, e in enumerate(encoded)],
            "model": name,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }
    )


def routes(context):
    return [route("/v1/embeddings", guard(context, embeddings, "infer", openai_errors=True), ("POST",))]
