"""A bounded load test of serving, loopback only: the LeNet digit model (example 5's architecture) served
by tinygrad_maas with and without dynamic batching, from architecture.json and from the same model exported
to model.onnx (with the onnx extra), and with access control and quotas on (a tokens file:
every request authenticated, its tenant's rate and in-flight quotas checked), and, when PyTorch and
FastAPI are installed, the same model in PyTorch served by FastAPI + uvicorn (the baseline). Each
configuration gets a fixed number of requests per concurrency level and a time limit; one JSON request =
one 1 x 32 x 32 image.

    python -m benchmarks.serve_load [--requests 2000] [--time-limit 60] [--rounds 3] [--only NAME ...]
                                    [--client python | wrk]

Prints throughput (requests/s) and p50 / p99 latency (ms) at concurrency 1, 8 and 32.
"""

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time

import numpy as np

LEVELS = (1, 8, 32)
TOKEN = "load-test-token-0123456789"

BASELINE_APP = textwrap.dedent("""
    import json, os
    import numpy as np, torch
    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse
    from tinygrad_maas.serialization import load
    torch.set_num_threads(2)
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 6, 5), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(6, 16, 5), torch.nn.ReLU(), torch.nn.MaxPool2d(2), torch.nn.Flatten(),
        torch.nn.Linear(400, 120), torch.nn.ReLU(), torch.nn.Linear(120, 84), torch.nn.ReLU(), torch.nn.Linear(84, 10))
    state = load(__import__("os").environ["WEIGHTS"])
    model.load_state_dict({k: torch.tensor(v.numpy()) for k, v in state.items()})
    model.eval()
    app = FastAPI()
    loads = __import__("orjson").loads if os.environ.get("BASELINE_JSON") == "orjson" else json.loads

    @app.post("/v2/models/lenet/infer")
    async def infer(request: Request):
        payload = loads(await request.body())
        item = payload["inputs"][0]
        x = torch.tensor(np.asarray(item["data"], dtype=np.float32).reshape(item["shape"]))
        with torch.no_grad():
            y = model(x).numpy()
        return JSONResponse({"model_name": "lenet", "outputs": [{"name": "output", "datatype": "FP32",
                             "shape": list(y.shape), "data": y.reshape(-1).tolist()}]})
""")


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait(port, path, limit=60):
    deadline = time.time() + limit
    while time.time() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", path)
            if connection.getresponse().status < 500:
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"server on port {port} did not come up")


def _load(port, concurrency, requests, time_limit, body, headers=None):
    """Send `requests` POSTs from `concurrency` threads (keep-alive); returns (throughput, latencies)."""
    headers = {"Content-Type": "application/json", **(headers or {})}
    latencies, lock, failures = [], threading.Lock(), []
    per_thread = max(requests // concurrency, 1)
    deadline = time.perf_counter() + time_limit

    def client():
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for _ in range(per_thread):
            if time.perf_counter() > deadline:
                return
            start = time.perf_counter()
            connection.request("POST", "/v2/models/lenet/infer", body, headers)
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                failures.append(response.status)
            with lock:
                latencies.append(time.perf_counter() - start)

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise RuntimeError(f"{len(failures)} requests failed: {sorted(set(failures))}")
    return len(latencies) / (time.perf_counter() - start), np.array(latencies) * 1e3


def _load_with_wrk(port, concurrency, requests, body, headers, workdir):
    """(requests/s, p50 ms, p99 ms) from wrk, run long enough for about `requests` requests (at least 3 s)."""
    script = os.path.join(workdir, "post.lua")
    with open(script, "w") as file:
        file.write(
            'wrk.method = "POST"\nwrk.body = [['
            + body
            + "]]\n"
            + "".join(
                f'wrk.headers["{k}"] = "{v}"\n' for k, v in {"Content-Type": "application/json", **headers}.items()
            )
            + 'done = function(summary, latency, requests)\n  io.write(string.format("LATENCY %f %f\\n", '
            "latency:percentile(50) / 1000, latency:percentile(99) / 1000))\nend\n"
        )
    seconds = max(3, requests // 400)
    result = subprocess.run(
        [
            "wrk",
            "-t",
            "1",
            "-c",
            str(concurrency),
            "-d",
            f"{seconds}s",
            "-s",
            script,
            f"http://127.0.0.1:{port}/v2/models/lenet/infer",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    if "Non-2xx" in result:
        raise RuntimeError(f"requests failed: {result}")
    count = int(next(line for line in result.splitlines() if "requests in" in line).split()[0])
    p50, p99 = map(float, next(line for line in result.splitlines() if line.startswith("LATENCY")).split()[1:])
    return count / seconds, p50, p99


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="requests per concurrency level")
    parser.add_argument("--time-limit", type=float, default=60.0, help="seconds per concurrency level, at most")
    parser.add_argument("--rounds", type=int, default=1, help="times every server is measured (medians shown)")
    parser.add_argument("--only", action="append", default=None, help="a server name to run (repeat; default all)")
    parser.add_argument(
        "--client",
        choices=("python", "wrk"),
        default="python",
        help="python: threads of http.client (no install; they share the cores with the server); "
        "wrk: the C load generator (apt install wrk), which leaves the cores to the servers",
    )
    args = parser.parse_args(argv)

    import tinygrad_maas as tm
    from tinygrad_maas import nn
    from tinygrad_maas.nn.architecture import save_model

    tm.manual_seed(0)
    lenet = nn.Sequential(
        nn.Conv2d(1, 6, 5),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(400, 120),
        nn.ReLU(),
        nn.Linear(120, 84),
        nn.ReLU(),
        nn.Linear(84, 10),
    )
    workdir = tempfile.mkdtemp(prefix="serve-load-")
    save_model(lenet, os.path.join(workdir, "repo", "lenet", "1"), metadata={"input_shape": [1, 32, 32]})
    onnx_repository = os.path.join(workdir, "repo_onnx")
    try:  # the same model and weights as an ONNX graph (Triton's layout), when the onnx extra is installed
        os.makedirs(os.path.join(onnx_repository, "lenet", "1"))
        tm.onnx.export(
            lenet,
            (tm.zeros(2, 1, 32, 32),),
            os.path.join(onnx_repository, "lenet", "1", "model.onnx"),
            input_names=["input"],
            output_names=["output"],
            dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
        )
    except ImportError:
        onnx_repository = None
        print("(the onnx extra is not installed: no ONNX server)")
    image = np.random.default_rng(0).random((1, 1, 32, 32)).astype(np.float32)
    body = json.dumps(
        {
            "inputs": [
                {
                    "name": "input",
                    "datatype": "FP32",
                    "shape": [1, 1, 32, 32],
                    "data": image.reshape(-1).round(5).tolist(),
                }
            ]
        }
    )

    with open(os.path.join(workdir, "tokens.json"), "w") as file:
        json.dump(
            {
                "tenants": {
                    "load": {
                        "token": TOKEN,
                        "models": ["lenet"],
                        "rate_per_second": 100000,
                        "burst": 100000,
                        "max_in_flight": 64,
                    }
                }
            },
            file,
        )
    ours = [
        sys.executable,
        "-m",
        "tinygrad_maas",
        "serve",
        "--model-repository",
        os.path.join(workdir, "repo"),
        "--model-control-mode",
        "none",
        "--log-level",
        "warning",
    ]
    servers = {
        "tinygrad_maas, batching": ours + ["--max-batch-size", "32"],
        "tinygrad_maas, batching, auth + quotas": ours
        + ["--max-batch-size", "32", "--tokens-file", os.path.join(workdir, "tokens.json")],
        "tinygrad_maas, no batching": ours + ["--max-batch-size", "1"],
    }
    if onnx_repository:
        from_onnx = [onnx_repository if part == os.path.join(workdir, "repo") else part for part in ours]
        servers["tinygrad_maas, ONNX, batching"] = from_onnx + ["--max-batch-size", "32"]
        servers["tinygrad_maas, ONNX, no batching"] = from_onnx + ["--max-batch-size", "1"]
    baseline = [sys.executable, "-m", "uvicorn", "baseline:app", "--app-dir", workdir, "--log-level", "warning"]
    environments = {name: {} for name in servers}
    try:
        import fastapi  # noqa: F401
        import torch  # noqa: F401

        with open(os.path.join(workdir, "baseline.py"), "w") as file:
            file.write(BASELINE_APP)
        servers["PyTorch + FastAPI"] = baseline
        environments["PyTorch + FastAPI"] = {"BASELINE_JSON": "json"}
    except ImportError:
        print("(PyTorch or FastAPI not installed: no baseline)")
    try:  # the baseline again with our JSON parser, to show how much of the difference is parsing
        import orjson  # noqa: F401

        if "PyTorch + FastAPI" in servers:
            servers["PyTorch + FastAPI, orjson"] = baseline
            environments["PyTorch + FastAPI, orjson"] = {"BASELINE_JSON": "orjson"}
    except ImportError:
        pass
    if args.only:
        servers = {name: command for name, command in servers.items() if name in args.only}

    print(
        f"LeNet, one 1x32x32 image per JSON request, {args.requests} requests per level, loopback, "
        f"{args.rounds} round(s): each server alone in its own process, one after the other; client: {args.client}"
    )
    results = {}  # (server, level) -> [(throughput, p50, p99) per round]
    for _ in range(args.rounds):
        for name, command in servers.items():
            for level, figures in _measure(name, command, environments[name], workdir, body, args).items():
                results.setdefault((name, level), []).append(figures)
    print("| server | concurrency | requests/s | p50 ms | p99 ms |")
    print("|---|---:|---:|---:|---:|")
    for (name, level), rounds in results.items():
        throughput, p50, p99 = np.median(np.array(rounds), axis=0)
        print(f"| {name} | {level} | {throughput:.0f} | {p50:.1f} | {p99:.1f} |")
    for form in ("batching", "no batching"):  # the same model served from model.onnx and from architecture.json
        pair = f"tinygrad_maas, ONNX, {form}", f"tinygrad_maas, {form}"
        for level in LEVELS:
            if (pair[0], level) in results and (pair[1], level) in results:
                ratios = [o[1] / a[1] for o, a in zip(results[(pair[0], level)], results[(pair[1], level)])]
                print(
                    f"ONNX / architecture.json p50 latency, {form}, concurrency {level}, per round: "
                    f"{', '.join(f'{r:.2f}' for r in ratios)} (median {np.median(ratios):.2f})"
                )
    baseline_key = ("PyTorch + FastAPI", 32)
    if baseline_key in results:
        for name in servers:
            if name.startswith("tinygrad_maas"):
                ratios = [ours[0] / theirs[0] for ours, theirs in zip(results[(name, 32)], results[baseline_key])]
                print(
                    f"{name} / PyTorch + FastAPI at concurrency 32, per round: "
                    f"{', '.join(f'{r:.2f}' for r in ratios)} (median {np.median(ratios):.2f})"
                )


def _measure(name, command, extra_environment, workdir, body, args):
    """{concurrency: (requests/s, p50 ms, p99 ms)} of one server, started alone for this measurement."""
    port = _free_port()
    environment = dict(
        os.environ, WEIGHTS=os.path.join(workdir, "repo", "lenet", "1", "weights.safetensors"), **extra_environment
    )
    process = subprocess.Popen(
        command + ["--port", str(port)], env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        _wait(port, "/v2/health/live" if "tinygrad" in name else "/docs")
        headers = {"Authorization": f"Bearer {TOKEN}"} if "auth" in name else {}
        _load(port, 4, 40, args.time_limit, body, headers)  # warm up
        figures = {}
        for level in LEVELS:
            if args.client == "wrk":
                figures[level] = _load_with_wrk(port, level, args.requests, body, headers, workdir)
            else:
                throughput, latencies = _load(port, level, args.requests, args.time_limit, body, headers)
                figures[level] = (throughput, np.percentile(latencies, 50), np.percentile(latencies, 99))
        return figures
    finally:
        process.terminate()
        process.wait(timeout=30)


if __name__ == "__main__":
    main()
