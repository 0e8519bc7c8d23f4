"""A bounded soak test of the server under hostile load, loopback only, with a fixed count and a time limit.

Well-behaved clients send inference requests to several models as two tenants, and every answer is checked
against the same model run in this process. The run happens twice: calm (only those clients) and storm
(the same clients while others misbehave):

- a client sending oversized headers (2 MiB) again and again,
- a client holding 16 connections whose bodies stall halfway, again and again,
- a client holding 16 connections whose headers arrive a byte at a time (slowloris), again and again,
- a client sending garbage bytes,
- a version of a model being exported, corrupted in place and removed, over and over.

Pass criteria (the exit code is 1 if one fails): every well-formed request got a correct answer (status
200, values equal to in-process results of the version that answered), none hung, the well-behaved
clients' p99 latency in the storm stayed within 2x of the calm run's, and the server's resident memory
came back to within 10% of its level before the runs.

    python -m benchmarks.serve_soak [--requests 2000] [--clients 8] [--time-limit 180]

The server runs with --header-timeout 3 --body-timeout 3 (instead of 10 and 30) so that the stalling
clients are cut off several times within a run.
"""

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np

from benchmarks.serve_load import _free_port, _wait

TENANTS = {"alpha": "alpha-token-0123456789", "beta": "beta-token-0123456789", "ops": "ops-token-0123456789"}


def _resident_bytes(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def _make_repository(workdir):
    """The models served, their expected answers, and the tokens file."""
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
    mlp = nn.Sequential(nn.Linear(64, 32), nn.Tanh(), nn.Linear(32, 10))
    repository = os.path.join(workdir, "repo")
    save_model(lenet, os.path.join(repository, "lenet", "1"), metadata={"input_shape": [1, 32, 32]})
    for version in (1, 2):  # version 2 of "digits" is the one churned: exported, corrupted, removed
        tm.manual_seed(version)
        model = nn.Sequential(nn.Linear(64, 32), nn.Tanh(), nn.Linear(32, 10)) if version == 2 else mlp
        save_model(model, os.path.join(workdir, "source", str(version)), metadata={"input_shape": [64]})
    save_model(mlp, os.path.join(repository, "digits", "1"), metadata={"input_shape": [64]})
    tokens = os.path.join(workdir, "tokens.json")
    with open(tokens, "w") as file:
        json.dump(
            {
                "tenants": {
                    "alpha": {
                        "token": TENANTS["alpha"],
                        "models": ["lenet", "digits"],
                        "rate_per_second": 5000,
                        "burst": 5000,
                        "max_in_flight": 64,
                    },
                    "beta": {
                        "token": TENANTS["beta"],
                        "models": ["digits"],
                        "rate_per_second": 5000,
                        "burst": 5000,
                        "max_in_flight": 64,
                    },
                    "ops": {"token": TENANTS["ops"], "scopes": ["admin", "metadata"]},
                }
            },
            file,
        )
    return repository, tokens


def _requests(workdir, count):
    """(path, token, body, {version: expected output}) for each well-formed request of the runs."""
    import tinygrad_maas as tm
    from tinygrad_maas.nn.architecture import load_model

    rng = np.random.default_rng(0)
    models = {
        "lenet": {"1": load_model(os.path.join(workdir, "repo", "lenet", "1"))[0]},
        "digits": {v: load_model(os.path.join(workdir, "source", v))[0] for v in ("1", "2")},
    }
    plans = []
    for i in range(count):
        name, path = [
            ("lenet", "/v2/models/lenet/infer"),
            ("digits", "/v2/models/digits/infer"),
            ("digits", "/v2/models/digits/versions/1/infer"),
        ][i % 3]
        tenant = "beta" if name == "digits" and i % 2 else "alpha"
        shape = (1, 1, 32, 32) if name == "lenet" else (1 + i % 4, 64)
        x = rng.random(shape).astype(np.float32).round(4)
        with tm.no_grad():
            expected = {v: m(tm.tensor(x)).numpy() for v, m in models[name].items()}
        body = json.dumps(
            {"inputs": [{"name": "input", "datatype": "FP32", "shape": list(shape), "data": x.reshape(-1).tolist()}]}
        ).encode()
        plans.append((path, TENANTS[tenant], body, expected))
    return plans


def _good_clients(port, plans, clients, time_limit):
    """Send the planned requests from `clients` threads; returns (latencies in ms, problems)."""
    latencies, problems, lock = [], [], threading.Lock()
    deadline = time.monotonic() + time_limit

    def client(share):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for path, token, body, expected in share:
            if time.monotonic() > deadline:
                with lock:
                    problems.append("time limit reached before every request was sent")
                return
            started = time.perf_counter()
            try:
                connection.request(
                    "POST", path, body, {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
                )
                response = connection.getresponse()
                payload = response.read()
            except OSError as error:  # a hang shows up here as a timeout
                with lock:
                    problems.append(f"{path}: {type(error).__name__}: {error}")
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                continue
            elapsed = (time.perf_counter() - started) * 1e3
            problem = _check(response.status, payload, expected)
            with lock:
                latencies.append(elapsed)
                if problem:
                    problems.append(f"{path}: {problem}")

    threads = [threading.Thread(target=client, args=(plans[i::clients],)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return np.array(latencies), problems


def _check(status, payload, expected):
    if status != 200:
        return f"status {status}: {payload[:200]!r}"
    answer = json.loads(payload)
    version = answer["model_version"]
    output = answer["outputs"][0]
    got = np.reshape(output["data"], output["shape"])
    if version not in expected or not np.allclose(got, expected[version], rtol=1e-4, atol=1e-5):
        return f"wrong answer from version {version}"
    return None


def _misbehave(port, kind, stop, outcomes):
    """One misbehaving client, repeating its trick until `stop` is set; outcomes[kind: what it saw] counts."""
    while not stop.is_set():
        if kind in ("stalled bodies", "dripped headers"):
            seen = _hold_connections(port, kind, stop)
        else:
            seen = [_one_bad_request(port, kind)]
        for key in seen:
            outcomes[f"{kind}: {key}"] = outcomes.get(f"{kind}: {key}", 0) + 1


def _one_bad_request(port, kind):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
            if kind == "oversized headers":
                sock.sendall(b"POST /v2/models/lenet/infer HTTP/1.1\r\nHost: localhost\r\nX-Pad: ")
                for _ in range(32):
                    sock.sendall(b"x" * 65536)
            else:  # garbage
                sock.sendall(os.urandom(512) + b"\r\n\r\n")
            return _status(sock.recv(64))
    except OSError as error:
        return type(error).__name__


def _hold_connections(port, kind, stop, count=16):
    """Open `count` connections that stall (a body cut short, or headers sent a byte a second) and wait for
    the server to cut them off."""
    sockets = []
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=60)
        if kind == "stalled bodies":
            sock.sendall(
                b"POST /v2/models/digits/infer HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer "
                + TENANTS["alpha"].encode()
                + b'\r\nContent-Length: 5000\r\n\r\n{"in'
            )
        sockets.append(sock)
    seen = []
    for sock in sockets:
        try:
            if kind == "dripped headers":
                reply = b""
                for byte in b"GET /v2/health/live HTTP/1.1\r\nHost: localhost\r\nX-Slow: " + b"z" * 60:
                    sock.sendall(bytes([byte]))
                    sock.settimeout(0.05)
                    try:
                        reply = sock.recv(64)
                        break
                    except socket.timeout:
                        if stop.is_set():
                            break
                sock.settimeout(60)
                reply = reply or sock.recv(64)
            else:
                reply = sock.recv(64)
            seen.append(_status(reply))
        except OSError as error:
            seen.append(type(error).__name__)
        finally:
            sock.close()
    return seen


def _status(reply):
    return reply.split(b" ")[1].decode() if reply.startswith(b"HTTP/") else "closed"


def _churn(workdir, repository, stop, events):
    """Export version 2 of "digits", corrupt it in place, remove it; again and again."""
    import shutil

    from tinygrad_maas.serve.export import export

    target = os.path.join(repository, "digits", "2")
    while not stop.is_set():
        export(os.path.join(workdir, "source", "2"), repository, "digits", 2)
        events.append("exported")
        time.sleep(1.5)
        with open(os.path.join(target, "weights.safetensors"), "r+b") as file:
            file.write(b"\xff" * 16)
        events.append("corrupted")
        time.sleep(1.5)
        shutil.rmtree(target)
        events.append("removed")
        time.sleep(1.0)


def _run_phase(port, plans, args, workdir, repository, hostile):
    stop, outcomes, events, helpers = threading.Event(), {}, [], []
    if hostile:
        helpers = [
            threading.Thread(target=_misbehave, args=(port, kind, stop, outcomes))
            for kind in ("oversized headers", "stalled bodies", "dripped headers", "garbage")
        ]
        helpers.append(threading.Thread(target=_churn, args=(workdir, repository, stop, events)))
        for helper in helpers:
            helper.start()
        time.sleep(1.0)
    started = time.perf_counter()
    latencies, problems = _good_clients(port, plans, args.clients, args.time_limit)
    seconds = time.perf_counter() - started
    stop.set()
    for helper in helpers:
        helper.join(timeout=90)
    return latencies, problems, seconds, outcomes, events


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="well-formed requests per run")
    parser.add_argument("--clients", type=int, default=8, help="well-behaved client threads")
    parser.add_argument("--time-limit", type=float, default=180.0, help="seconds per run, at most")
    args = parser.parse_args(argv)

    workdir = tempfile.mkdtemp(prefix="serve-soak-")
    repository, tokens = _make_repository(workdir)
    plans = _requests(workdir, args.requests)
    port = _free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tinygrad_maas",
            "serve",
            "--model-repository",
            repository,
            "--tokens-file",
            tokens,
            "--port",
            str(port),
            "--poll-seconds",
            "0.5",
            "--header-timeout",
            "3",
            "--body-timeout",
            "3",
            "--log-level",
            "warning",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait(port, "/v2/health/ready")
        _good_clients(port, plans[:50], 4, 60)  # warm up
        time.sleep(3)
        memory = {"start": _resident_bytes(server.pid)}
        calm = _run_phase(port, plans, args, workdir, repository, hostile=False)
        memory["after calm"] = _resident_bytes(server.pid)
        storm = _run_phase(port, plans, args, workdir, repository, hostile=True)
        memory["after storm"] = _resident_bytes(server.pid)
        time.sleep(8)  # removed versions unload, idle memory goes back
        memory["settled"] = _resident_bytes(server.pid)
        alive = server.poll() is None
    finally:
        server.terminate()
        server.wait(timeout=60)
    return _report(args, calm, storm, memory, alive)


def _report(args, calm, storm, memory, alive):
    print(f"{args.requests} well-formed requests per run from {args.clients} clients, two tenants, 3 models")
    print("| run | requests answered | problems | seconds | requests/s | p50 ms | p99 ms |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, (latencies, problems, seconds, _, _) in (("calm", calm), ("storm", storm)):
        print(
            f"| {name} | {len(latencies)} | {len(problems)} | {seconds:.1f} | {len(latencies) / seconds:.0f} | "
            f"{np.percentile(latencies, 50):.1f} | {np.percentile(latencies, 99):.1f} |"
        )
    print("misbehaving clients saw: " + ", ".join(f"{k} x{v}" for k, v in sorted(storm[3].items())))
    print("repository churn: " + ", ".join(f"{e} x{storm[4].count(e)}" for e in ("exported", "corrupted", "removed")))
    print("resident memory MiB: " + ", ".join(f"{k} {v / 2**20:.0f}" for k, v in memory.items()))
    ratio = np.percentile(storm[0], 99) / np.percentile(calm[0], 99)
    growth = memory["settled"] / memory["start"] - 1
    checks = {
        "every well-formed request answered correctly": not calm[1]
        and not storm[1]
        and len(calm[0]) == len(storm[0]) == args.requests,
        f"p99 storm / calm = {ratio:.2f} <= 2": ratio <= 2,
        f"memory settled within 10% of start ({growth:+.1%})": abs(growth) <= 0.10,
        "server still running": alive,
    }
    for problem in (calm[1] + storm[1])[:10]:
        print("  problem:", problem)
    for check, passed in checks.items():
        print(f"{'PASS' if passed else 'FAIL'}  {check}")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
