"""Shared by the serving tests: model repositories of tiny linear models, and a real server (uvicorn with
the server's own connection limits, on a free loopback port) to speak HTTP to."""

import json
import socket
import threading
import time
import urllib.error
import urllib.request

import numpy as np
import pytest

import tinygrad_maas as tm
import tinygrad_maas.nn as nn
from tinygrad_maas.nn.architecture import save_model

TOKEN = "s3cret-token-0123456789"
X = np.array([[[1.0, 2.0], [3.0, 4.0]]], dtype=np.float32)  # one sample of shape (2, 2)


def write_model(root, name, version, scale, metadata=None):
    """y = x.flatten() @ (arange(12).reshape(3, 4) * scale).T: a model whose answers tests can compute."""
    tm.manual_seed(int(version))
    model = nn.Sequential(nn.Flatten(), nn.Linear(4, 3))
    with tm.no_grad():
        model[1].weight.array[...] = np.arange(12, dtype=np.float32).reshape(3, 4) * scale
        model[1].bias.array[...] = 0
    save_model(model, root / name / str(version), metadata=metadata or {"input_shape": [2, 2]})
    return model


def expected(scale, x=X):
    return x.reshape(len(x), 4) @ (np.arange(12, dtype=np.float32).reshape(3, 4) * scale).T


def infer_json(data=X, name="input", datatype="FP32", shape=None):
    return {
        "inputs": [
            {
                "name": name,
                "datatype": datatype,
                "shape": list(shape or data.shape),
                "data": np.asarray(data).reshape(-1).tolist(),
            }
        ]
    }


@pytest.fixture(scope="module")
def repository_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("repository")
    write_model(root, "tiny", 1, 1.0)
    write_model(root, "tiny", 2, 2.0)
    return root


class Server:
    """The app served for real; request() speaks HTTP/1.1 to it and never raises for an HTTP status."""

    def __init__(self, app, settings=None, **server_options):
        from tinygrad_maas.serve.http import make_server
        from tinygrad_maas.serve.settings import ServerSettings

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.server = make_server(
            app, settings or ServerSettings(), "127.0.0.1", self.port, "warning", **server_options
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.time() + 20
        while not self.server.started:
            if time.time() > deadline or not self.thread.is_alive():
                raise RuntimeError("the server did not start")
            time.sleep(0.05)

    def request(self, method, path, body=None, headers=None, token=None, timeout=30):
        data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}", data=data, method=method, headers=dict(headers or {})
        )
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
        except urllib.error.HTTPError as failure:
            return failure.code, {k.lower(): v for k, v in failure.headers.items()}, failure.read()

    def stop(self):
        self.server.should_exit = True
        self.thread.join(timeout=20)


def serve_repository(root, access=None, hosts=None, **settings):
    """A running Server over the repository at root (loaded first), with these ServerSettings changes."""
    from tinygrad_maas.serve.app import create_app
    from tinygrad_maas.serve.repository import ModelRepository
    from tinygrad_maas.serve.settings import ServerSettings

    settings = ServerSettings(**settings)
    repository = ModelRepository(str(root), settings, log=lambda line: None)
    repository.refresh()
    running = Server(create_app(repository, settings, access, hosts), settings)
    running.repository = repository
    return running


@pytest.fixture
def start_server():
    """start_server(root, **settings) -> Server; every server started is stopped after the test."""
    started = []

    def start(root, **options):
        running = serve_repository(root, **options)
        started.append(running)
        return running

    yield start
    for running in started:
        running.stop()


def metric(server, counter, model="tiny", version="2", token=None):
    text = server.request("GET", "/metrics", token=token)[2].decode()
    prefix = f'{counter}{{model="{model}",version="{version}"}}'
    line = next((row for row in text.splitlines() if row.startswith(prefix)), None)
    return int(line.split()[-1]) if line else 0
