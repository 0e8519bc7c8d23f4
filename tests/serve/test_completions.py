"""Text generation served: OpenAI's /v1/completions for the character models trained here, plain and
streamed as server-sent events, with a key-value cache; bad requests are clear 400s."""

import http.client
import json
import time

import numpy as np
import pytest

pytest.importorskip("uvicorn", reason="serving needs the serve extra: starlette, uvicorn")

import tinygrad_maas as tm  # noqa: E402
from tests.serve.conftest import serve_repository  # noqa: E402
from tinygrad_maas.models.causal_lm import CharGRU, CharTransformer  # noqa: E402
from tinygrad_maas.models.generation import Generator  # noqa: E402
from tinygrad_maas.nn.architecture import save_model  # noqa: E402

ALPHABET = "abcdefgh .\n"


def char_model(kind):
    tm.manual_seed(0)
    model = (
        CharTransformer(len(ALPHABET), width=16, heads=2, layers=1, max_length=64)
        if kind == "transformer"
        else CharGRU(len(ALPHABET), embedding=8, hidden=16)
    )
    model.alphabet = ALPHABET
    return model.eval()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("repository")
    for kind in ("gru", "transformer"):
        save_model(char_model(kind), root / kind / "1")
    running = serve_repository(root)
    yield running
    running.stop()


def post(server, body):
    status, headers, content = server.request(
        "POST", "/v1/completions", body, headers={"content-type": "application/json"}
    )
    return status, headers, content


def expected_text(kind, prompt, **options):
    return "".join(Generator(char_model(kind), prompt, **options))


@pytest.mark.parametrize("kind", ["gru", "transformer"])
def test_a_completion_is_the_models_own_sampled_continuation_with_usage(server, kind):
    body = {"model": kind, "prompt": "abc", "max_tokens": 12, "temperature": 0.8, "seed": 7}
    status, _, content = post(server, body)
    answer = json.loads(content)
    assert status == 200, answer
    assert answer["object"] == "text_completion" and answer["id"].startswith("cmpl-")
    (choice,) = answer["choices"]
    assert choice["text"] == expected_text(kind, "abc", max_tokens=12, temperature=0.8, seed=7)
    assert choice["finish_reason"] == "length" and len(choice["text"]) == 12
    assert answer["usage"] == {"prompt_tokens": 3, "completion_tokens": 12, "total_tokens": 15}


def test_the_same_seed_gives_the_same_text_and_temperature_zero_is_greedy(server):
    body = {"model": "gru", "prompt": "ha", "max_tokens": 20, "temperature": 1.2, "seed": 3}
    first, second = (json.loads(post(server, body)[2])["choices"][0]["text"] for _ in range(2))
    assert first == second
    greedy = json.loads(post(server, {**body, "temperature": 0})[2])["choices"][0]["text"]
    assert greedy == expected_text("gru", "ha", max_tokens=20, temperature=0)


def test_a_stop_sequence_ends_the_text_before_it(server):
    full = expected_text("gru", "a", max_tokens=40, temperature=1.0, seed=11)
    stop = full[10:12]
    cut = full[: full.find(stop)]
    status, _, content = post(server, {"model": "gru", "prompt": "a", "max_tokens": 40, "seed": 11, "stop": [stop]})
    choice = json.loads(content)["choices"][0]
    assert status == 200 and choice["text"] == cut and choice["finish_reason"] == "stop"


def events_of(content):
    lines = content.decode().split("\n\n")
    assert lines[-1] == "" and lines[-2] == "data: [DONE]"
    assert all(line.startswith("data: ") for line in lines[:-1])
    return [json.loads(line[6:]) for line in lines[:-2]]


def test_a_stream_sends_well_formed_events_whose_pieces_make_the_whole_text_then_done(server):
    body = {"model": "transformer", "prompt": "abc", "max_tokens": 15, "seed": 5, "stream": True}
    status, headers, content = post(server, body)
    assert status == 200 and headers["content-type"].startswith("text/event-stream")
    events = events_of(content)
    assert all(event["object"] == "text_completion" for event in events)
    assert [event["choices"][0]["finish_reason"] for event in events] == [None] * (len(events) - 1) + ["length"]
    text = "".join(event["choices"][0]["text"] for event in events)
    assert text == expected_text("transformer", "abc", max_tokens=15, seed=5)
    assert events[-1]["usage"]["completion_tokens"] == 15


def test_a_client_that_disconnects_mid_stream_stops_the_generation(server):
    model = server.repository.resolve("gru").model
    body = json.dumps({"model": "gru", "prompt": "a", "max_tokens": 1024, "stream": True})
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    connection.request("POST", "/v1/completions", body, {"content-type": "application/json"})
    response = connection.getresponse()
    assert response.status == 200
    response.fp.readline()  # the first event has arrived: generation is under way
    connection.sock.close()
    connection.close()
    time.sleep(1.0)  # the server notices the disconnect and cancels the stream
    made = model.tokens_generated
    time.sleep(1.0)
    assert model.tokens_generated == made  # nothing more is generated
    assert made < 1024


def test_the_key_value_cache_gives_the_full_forward_passes_logits():
    model = char_model("transformer")
    tokens = tm.tensor(np.random.default_rng(0).integers(0, len(ALPHABET), (1, 30)))
    with tm.no_grad():
        full = model(tokens).numpy()[0]
        logits, cache = model.step(tokens[:, :5])
        stepped = [logits.numpy()[0]]
        for position in range(5, 30):
            logits, cache = model.step(tokens[:, position : position + 1], cache)
            stepped.append(logits.numpy()[0])
    assert np.abs(np.stack(stepped) - full[4:]).max() < 1e-5
    assert cache[0][0].shape == (1, 2, 30, 8)  # (batch, heads, positions so far, head_dim)


@pytest.mark.parametrize(
    "body, message",
    [
        ({"model": "gru", "prompt": "xyz"}, "characters the model does not know: 'xyz'"),
        ({"model": "gru", "prompt": ""}, "the prompt is empty"),
        ({"model": "gru", "prompt": "a", "max_tokens": 0}, "'max_tokens' must be an integer from 1 to 1024"),
        ({"model": "gru", "prompt": "a", "temperature": -1}, "'temperature' must be a number from 0 to 2"),
        ({"model": "gru", "prompt": "a", "stop": ["a"] * 5}, "at most 4"),
        ({"model": "gru", "prompt": "a", "n": 2}, "'n' must be 1"),
        ({"model": "gru", "prompt": "a", "logit_bias": {}}, "unknown field(s) ['logit_bias']"),
        ({"model": "transformer", "prompt": "a" * 64}, "the model reads at most 63"),
        ({"model": "nope", "prompt": "a"}, "unknown model"),
    ],
)
def test_completion_mistakes_are_4xx_naming_the_field(server, body, message):
    status, _, content = post(server, body)
    assert status in (400, 404) and message in json.loads(content)["error"]["message"]


def test_the_inference_protocol_endpoint_continues_prompts_greedily(server):
    request = {"inputs": [{"name": "text_input", "datatype": "BYTES", "shape": [2], "data": ["ab", "h."]}]}
    status, _, content = server.request("POST", "/v2/models/gru/infer", request)
    outputs = json.loads(content)["outputs"][0]
    assert status == 200 and outputs["datatype"] == "BYTES"
    assert outputs["data"] == [expected_text("gru", p, max_tokens=16, temperature=0) for p in ("ab", "h.")]


def test_streams_beyond_the_limit_are_refused_with_503(tmp_path):
    save_model(char_model("gru"), tmp_path / "gru" / "1")
    server = serve_repository(tmp_path, max_open_streams=1)
    try:
        body = json.dumps({"model": "gru", "prompt": "a", "max_tokens": 1024, "stream": True})
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        connection.request("POST", "/v1/completions", body, {"content-type": "application/json"})
        response = connection.getresponse()
        response.fp.readline()
        status, _, content = post(server, json.loads(body))
        assert status == 503 and "streams are open" in json.loads(content)["error"]["message"]
        connection.close()
    finally:
        server.stop()


def test_tf_serving_predict_and_explain_on_a_generation_model_answer_text_and_a_clear_400(server):
    status, _, content = server.request("POST", "/v1/models/gru:predict", {"instances": ["ab"]})
    assert status == 200, content
    assert json.loads(content)["predictions"] == [expected_text("gru", "ab", max_tokens=16, temperature=0)]
    status, _, content = server.request("POST", "/v1/models/gru:explain", {"instances": ["ab"]})
    assert status == 400 and "generates text" in json.loads(content)["error"]
