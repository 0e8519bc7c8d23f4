"""Fuzzing the running server from its own OpenAPI document with schemathesis (the dev extra): generated
and mutated requests to every endpoint must get no 5xx answer and no hang (each request has 10 seconds).

Two runs with fixed seeds: one with free path parameters (mostly unknown models: routing, validation of
names and versions), one aimed at a real model so the bodies reach decoding and the model itself.
"""

import os
import subprocess
import sys

import pytest

pytest.importorskip("uvicorn", reason="serving needs the serve extra: starlette, uvicorn")
pytest.importorskip("schemathesis", reason='the fuzz test needs schemathesis: pip install -e ".[dev]"')
if os.environ.get("TINYGRAD_MAAS_BACKEND", "numba") != "numba":
    pytest.skip(
        "the fuzz runs exercise HTTP handling, not the kernels: they run once, on the default backend",
        allow_module_level=True,
    )
from tests.serve.conftest import write_model  # noqa: E402
from tinygrad_maas.serve.auth import AccessControl  # noqa: E402

TOKEN = "fuzz-token-0123456789"


def fuzz(server, tmp_path, *extra, config=""):
    settings = tmp_path / "schemathesis.toml"
    settings.write_text(config)
    command = [
        sys.executable,
        "-c",
        "import sys; from schemathesis.cli import schemathesis; sys.exit(schemathesis())",
        "--config-file",
        str(settings),
        "run",
        f"http://127.0.0.1:{server.port}/openapi.json",
        "--header",
        f"Authorization: Bearer {TOKEN}",
        "--checks",
        "not_a_server_error",
        "--max-examples",
        "20",
        "--request-timeout",
        "10",
        "--seed",
        "7",
        "--no-color",
        "--suppress-health-check",
        "all",
        *extra,
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=tmp_path)
    return result.returncode, result.stdout + result.stderr


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from tests.serve.conftest import serve_repository

    root = tmp_path_factory.mktemp("fuzz")
    write_model(root, "tiny", 1, 1.0)
    write_model(root, "tiny", 2, 2.0)
    running = serve_repository(root, access=AccessControl.from_token(TOKEN), model_control_mode="explicit")
    yield running
    running.stop()


def test_fuzzing_every_endpoint_finds_no_server_error(server, tmp_path):
    code, output = fuzz(server, tmp_path)
    assert code == 0 and " passed" in output, output[-3000:]


def test_fuzzing_the_bodies_sent_to_a_real_model_finds_no_server_error(server, tmp_path):
    # model control is left out: unloading the model mid-run would make later requests a correct 503
    code, output = fuzz(
        server,
        tmp_path,
        "--exclude-path-regex",
        "/v2/repository/models/",
        config='[parameters]\nmodel = "tiny"\nversion = "2"\n',
    )
    assert code == 0 and " passed" in output, output[-3000:]
    assert server.request("POST", "/v2/repository/index", b"{}", token=TOKEN)[0] == 200  # still serving
