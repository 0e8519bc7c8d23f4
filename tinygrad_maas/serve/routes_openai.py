"""OpenAI-compatible text endpoints, for the clients and libraries that speak OpenAI's API.

    POST /v1/embeddings    {"model": name, "input": "text" | ["text", ...], "encoding_format": "float" | "base64"}
        -> {"object": "list", "data": [{"object": "embedding", "index": i, "embedding": [...] | "base64"}],
            "model": name, "usage": {"prompt_tokens": n, "total_tokens": n}}

base64 is the float32 vector's little-endian bytes, base64-encoded (what the openai client asks for by
default and decodes with numpy). Token counts are the model's own tokens, [CLS] and [SEP] included.
"dimensions" is accepted only as the model's own size (its vectors cannot be shortened); token-id inputs
are refused, as the model's vocabulary is not OpenAI's.

    POST /v1/completions   {"model", "prompt", "max_tokens": 16, "temperature": 1, "top_p": 1, "stop": null,
                            "seed": null, "stream": false}
        -> {"id": "cmpl-...", "object": "text_completion", "created", "model",
            "choices": [{"text", "index": 0, "logprobs": null, "finish_reason": "stop" | "length"}],
            "usage": {"prompt_tokens", "completion_tokens", "total_tokens"}}

With "stream": true the answer is server-sent events: one `data: {chunk}` per piece of text (the same
object with the piece as choices[0].text and finish_reason null), a last chunk with the finish_reason and
usage, then `data: [DONE]`. A client that disconnects stops the generation at the next token. A stream
lasts at most stream_timeout seconds and at most max_open_streams are open at once.

The model named in the body is authorised like a path's model. Errors take OpenAI's form: {"error":
{"message", "type", "param", "code"}}; an error during a stream is sent as an event of that form.
"""

import asyncio
import base64
import secrets
import time

import numpy as np

from .app import guard, json_response, route
from .body import read_body
from .errors import ApiError, retry_after
from .generation_model import TextGenerationModel
from .protocol import json_dumps, parse_json_object
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


def _model_name(payload, kind="text-embedding"):
    name = payload.get("model")
    if not isinstance(name, str) or not name:
        raise ApiError(400, f"'model' must name a {kind} model of this server")
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


_COMPLETION_FIELDS = {"model", "prompt", "max_tokens", "temperature", "top_p", "stop", "seed", "stream", "n", "user"}


def _number(payload, field, default, low, high):
    value = payload.get(field, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise ApiError(400, f"'{field}' must be a number from {low} to {high}, got {value!r:.40}")
    return value


def _completion_request(payload, settings):
    """{prompt, max_tokens, temperature, top_p, stop, seed} and whether to stream, every field checked."""
    unknown = sorted(set(payload) - _COMPLETION_FIELDS)
    if unknown:
        raise ApiError(400, f"unknown field(s) {unknown}; a completions request takes {sorted(_COMPLETION_FIELDS)}")
    prompt = payload.get("prompt")
    if isinstance(prompt, list) and len(prompt) == 1:
        prompt = prompt[0]
    if not isinstance(prompt, str):
        raise ApiError(400, "'prompt' must be a string (or a list of one string)")
    if payload.get("n", 1) != 1:
        raise ApiError(400, "'n' must be 1: one completion per request")
    max_tokens = payload.get("max_tokens", 16)
    limit = settings.max_completion_tokens
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or not 1 <= max_tokens <= limit:
        raise ApiError(400, f"'max_tokens' must be an integer from 1 to {limit}, got {max_tokens!r:.40}")
    stop = payload.get("stop")
    stop = [] if stop is None else [stop] if isinstance(stop, str) else stop
    if not isinstance(stop, list) or len(stop) > 4 or not all(isinstance(s, str) and s for s in stop):
        raise ApiError(400, "'stop' must be a non-empty string or a list of at most 4 of them")
    seed = payload.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63):
        raise ApiError(400, f"'seed' must be a non-negative integer, got {seed!r:.40}")
    stream = payload.get("stream", False)
    if not isinstance(stream, bool):
        raise ApiError(400, f"'stream' must be true or false, got {stream!r:.40}")
    options = {
        "max_tokens": max_tokens,
        "temperature": _number(payload, "temperature", 1.0, 0, 2),
        "top_p": _number(payload, "top_p", 1.0, 0, 1),
        "stop": stop,
        "seed": seed,
    }
    if options["top_p"] == 0:
        raise ApiError(400, "'top_p' must be more than 0")
    return prompt, options, stream


async def completions(request, context, tenant):
    from starlette.responses import StreamingResponse

    payload = parse_json_object(await read_body(request, context.settings.max_body_bytes))
    name = _model_name(payload, "text-generation")
    context.access.authorize(tenant, "infer", name)
    prompt, options, stream = _completion_request(payload, context.settings)
    _, model = await context.repository.acquire(name)
    if not isinstance(model, TextGenerationModel):
        raise ApiError(400, f"model {name!r} is not a text-generation model")
    generator = model.generator(prompt, **options)
    level = model.scheduler.config.priority(None, tenant.priority if tenant else None)
    answer = {
        "id": f"cmpl-{secrets.token_hex(12)}",
        "object": "text_completion",
        "created": int(time.time()),
        "model": name,
    }
    if not stream:
        with model.scheduler.held(), context.counted(model):
            text = ""
            while (piece := await model.scheduler.call(lambda: model.step(generator), level)) is not None:
                text += piece
        return json_response(
            {**answer, "choices": [_choice(text, generator.finish_reason)], "usage": _usage(generator)}
        )
    if context.open_streams >= context.settings.max_open_streams:
        raise ApiError(
            503, f"{context.open_streams} streams are open, the most this server allows; retry later", retry_after(1)
        )
    events = _events(context, model, generator, level, answer)
    return StreamingResponse(events, media_type="text/event-stream", headers={"cache-control": "no-cache"})


async def _events(context, model, generator, level, answer):
    """The server-sent events of one streamed completion; cancelled (at an await) when the client leaves."""
    deadline = time.monotonic() + context.settings.stream_timeout
    context.open_streams += 1  # counted from the first event: a stream never started holds nothing
    try:
        with model.scheduler.held(), context.counted(model):
            while (piece := await model.scheduler.call(lambda: model.step(generator), level)) is not None:
                if piece:
                    yield _event({**answer, "choices": [_choice(piece, None)]})
                if time.monotonic() > deadline:
                    raise ApiError(
                        503, f"the stream lasted longer than stream_timeout ({context.settings.stream_timeout:g} s)"
                    )
            yield _event({**answer, "choices": [_choice("", generator.finish_reason)], "usage": _usage(generator)})
    except ApiError as problem:
        kind = "invalid_request_error" if problem.status < 500 else "server_error"
        yield _event({"error": {"message": problem.message, "type": kind, "param": None, "code": None}})
    except asyncio.CancelledError:
        raise  # the client went away: nothing more to send, no more tokens made
    finally:
        context.open_streams -= 1
    yield b"data: [DONE]\n\n"


def _event(content):
    return b"data: " + json_dumps(content) + b"\n\n"


def _choice(text, finish_reason):
    return {"text": text, "index": 0, "logprobs": None, "finish_reason": finish_reason}


def _usage(generator):
    prompt, completion = len(generator.prompt_ids), generator.completion_tokens
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def routes(context):
    return [
        route("/v1/embeddings", guard(context, embeddings, "infer", openai_errors=True), ("POST",)),
        route("/v1/completions", guard(context, completions, "infer", openai_errors=True), ("POST",)),
    ]
