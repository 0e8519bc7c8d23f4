"""The model repository as an operator meets it: broken versions beside good ones, versions removed and
exported again, model files that lie about their size, the memory budget, and model control."""

import json
import shutil
import time
import tracemalloc

import numpy as np
import pytest

pytest.importorskip("uvicorn", reason="serving needs the serve extra: starlette, uvicorn")
from tests.serve.conftest import expected, infer_json, write_model  # noqa: E402
from tinygrad_maas.serve.auth import AccessControl  # noqa: E402
from tinygrad_maas.serve.repository import ModelRepository  # noqa: E402
from tinygrad_maas.serve.settings import ServerSettings  # noqa: E402

ADMIN = "admin-token-0123456789"


def break_version(root, name, version):
    (root / name / str(version) / "weights.safetensors").write_bytes(b"\x00" * 5)


def index(server, token=None):
    status, _, body = server.request("POST", "/v2/repository/index", b"{}", token=token)
    assert status == 200, body
    return {(entry["name"], entry.get("version")): entry for entry in json.loads(body)}


def answer(server, path="/v2/models/tiny/infer"):
    status, _, body = server.request("POST", path, infer_json())
    return status, json.loads(body)


def wait_until(condition, seconds=15):
    deadline = time.time() + seconds
    while not condition():
        assert time.time() < deadline, "timed out waiting"
        time.sleep(0.05)


def test_a_broken_version_blocks_neither_later_versions_nor_other_models(tmp_path, start_server):
    root = tmp_path / "repo"
    write_model(root, "tiny", 1, 1.0)
    write_model(root, "tiny", 2, 2.0)
    write_model(root, "tiny", 3, 3.0)
    write_model(root, "zeta", 1, 5.0)
    break_version(root, "tiny", 2)
    server = start_server(root)  # starting up with a broken version works
    states = index(server)
    assert [states[("tiny", v)]["state"] for v in "123"] == ["READY", "UNAVAILABLE", "READY"]
    assert "not a safetensors file" in states[("tiny", "2")]["reason"]
    assert states[("zeta", "1")]["state"] == "READY"
    status, body = answer(server)
    assert status == 200 and body["model_version"] == "3"
    np.testing.assert_allclose(body["outputs"][0]["data"], expected(3.0).reshape(-1))
    assert answer(server, "/v2/models/zeta/infer")[0] == 200
    status, body = answer(server, "/v2/models/tiny/versions/2/infer")
    assert status == 503 and "not a safetensors file" in body["error"]


def test_the_latest_version_that_can_answer_serves_when_the_newest_is_broken(tmp_path, start_server):
    root = tmp_path / "repo"
    write_model(root, "tiny", 1, 1.0)
    write_model(root, "tiny", 2, 2.0)
    break_version(root, "tiny", 2)
    status, body = answer(start_server(root))
    assert status == 200 and body["model_version"] == "1"


def test_removed_versions_unload_and_a_reused_number_serves_the_new_weights(tmp_path, start_server):
    from tinygrad_maas.__main__ import main

    root, source = tmp_path / "repo", tmp_path / "source"
    write_model(root, "tiny", 1, 1.0)
    write_model(root, "tiny", 2, 2.0)
    write_model(source, "new", 1, 7.0)
    server = start_server(root, poll_seconds=0.1)
    assert answer(server)[1]["model_version"] == "2"
    shutil.rmtree(root / "tiny" / "2")
    wait_until(lambda: ("tiny", "2") not in index(server))
    assert answer(server, "/v2/models/tiny/versions/2/infer")[0] == 404
    assert answer(server)[1]["model_version"] == "1"
    # export takes the next number, 2 again: the server must serve the new weights under it, never the old
    assert main(["export", str(source / "new" / "1"), "--repository", str(root), "--name", "tiny"]) == 0
    wait_until(lambda: answer(server)[1]["model_version"] == "2")
    np.testing.assert_allclose(answer(server)[1]["outputs"][0]["data"], expected(7.0).reshape(-1))


def test_a_version_replaced_between_two_polls_is_reloaded(tmp_path, start_server):
    root, source = tmp_path / "repo", tmp_path / "source"
    write_model(root, "tiny", 1, 1.0)
    write_model(source, "tiny", 1, 4.0)
    server = start_server(root, poll_seconds=0.2)
    shutil.rmtree(root / "tiny" / "1")
    shutil.copytree(source / "tiny" / "1", root / "tiny" / "1")  # same number, other files
    wait_until(lambda: answer(server)[1]["outputs"][0]["data"] == expected(4.0).reshape(-1).tolist())


def test_an_architecture_claiming_a_huge_layer_is_refused_before_anything_is_allocated(tmp_path):
    root = tmp_path / "repo"
    write_model(root, "liar", 1, 1.0)
    description = json.loads((root / "liar" / "1" / "architecture.json").read_text())
    description["architecture"]["layers"][1]["args"].update(in_features=20000, out_features=20000)  # 1.6 GB
    (root / "liar" / "1" / "architecture.json").write_text(json.dumps(description))
    assert len((root / "liar" / "1" / "architecture.json").read_bytes()) < 1000
    repository = ModelRepository(str(root), log=lambda line: None)
    tracemalloc.start()
    repository.refresh()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    (entry,) = repository.index()
    assert entry["state"] == "UNAVAILABLE" and "architecture.json and weights.safetensors disagree" in entry["reason"]
    assert "1.weight: architecture (20000, 20000), weights (3, 4)" in entry["reason"]
    assert peak < 20 * 1024 * 1024


def test_a_signature_whose_sample_cannot_fit_a_request_is_refused_before_warm_up(tmp_path):
    root = tmp_path / "repo"
    write_model(root, "giant", 1, 1.0, metadata={"input_shape": [100000, 100000]})
    repository = ModelRepository(str(root), log=lambda line: None)
    repository.refresh()
    (entry,) = repository.index()
    assert (
        entry["state"] == "UNAVAILABLE" and "takes 40000000000 bytes, more than a request may carry" in entry["reason"]
    )


def test_version_folders_must_be_canonical_positive_integers(tmp_path):
    root = tmp_path / "repo"
    write_model(root, "tiny", 1, 1.0)
    for odd in ("01", "0", "1.5", "+2", ".export-1-ab"):
        shutil.copytree(root / "tiny" / "1", root / "tiny" / odd)
    said = []
    repository = ModelRepository(str(root), log=said.append)
    repository.refresh()
    assert [(e["name"], e["version"]) for e in repository.index()] == [("tiny", "1")]
    assert sum("version folders are positive integers" in line for line in said) == 4  # the hidden one is quiet


def test_a_load_failure_is_logged_once_not_at_every_poll(tmp_path):
    root = tmp_path / "repo"
    write_model(root, "tiny", 1, 1.0)
    break_version(root, "tiny", 1)
    said = []
    repository = ModelRepository(str(root), log=said.append)
    for _ in range(3):
        repository.refresh()
    assert sum("tiny version 1 is unavailable" in line for line in said) == 1


def test_a_signature_with_markup_in_a_name_is_refused(tmp_path):
    root = tmp_path / "repo"
    hostile = {
        "signature": {
            "inputs": [{"name": "</script><script>alert(1)</script>", "datatype": "FP32", "shape": [-1, 2, 2]}],
            "outputs": None,
        }
    }
    write_model(root, "evil", 1, 1.0, metadata=hostile)
    repository = ModelRepository(str(root), log=lambda line: None)
    repository.refresh()
    (entry,) = repository.index()
    assert entry["state"] == "UNAVAILABLE" and "signature.inputs[0].name must be 1-64 letters" in entry["reason"]


def test_the_memory_budget_unloads_the_least_recently_used_and_it_reloads_on_demand(tmp_path, start_server):
    root = tmp_path / "repo"
    write_model(root, "first", 1, 1.0)
    write_model(root, "second", 1, 2.0)
    server = start_server(root, memory_budget_bytes=80)  # each model's weights take 60 bytes: one fits
    states = index(server)
    assert sorted(e["state"] for e in states.values()) == ["READY", "UNAVAILABLE"]
    for name, scale in (("first", 1.0), ("second", 2.0), ("first", 1.0)):
        status, body = answer(server, f"/v2/models/{name}/infer")
        assert status == 200
        np.testing.assert_allclose(body["outputs"][0]["data"], expected(scale).reshape(-1))
        states = index(server)
        assert states[(name, "1")]["state"] == "READY"
        other = states[("second" if name == "first" else "first", "1")]
        assert other["state"] == "UNAVAILABLE" and "memory budget" in other["reason"]


def test_a_model_larger_than_the_budget_is_unavailable_saying_so(tmp_path):
    root = tmp_path / "repo"
    write_model(root, "tiny", 1, 1.0)
    repository = ModelRepository(str(root), ServerSettings(memory_budget_bytes=10), log=lambda line: None)
    repository.refresh()
    assert "weights take 60 bytes, more than the memory budget of 10" in repository.index()[0]["reason"]


def test_model_control_exists_only_in_explicit_mode_and_needs_the_admin_scope(tmp_path, start_server):
    root = tmp_path / "repo"
    write_model(root, "tiny", 1, 1.0)
    polling = start_server(root)
    assert polling.request("POST", "/v2/repository/models/tiny/unload", b"{}")[0] == 404
    tenants = AccessControl.from_token(ADMIN)
    server = start_server(root, model_control_mode="explicit", access=tenants)
    assert server.request("POST", "/v2/repository/models/tiny/unload", b"{}")[0] == 401
    assert server.request("POST", "/v2/repository/models/tiny/unload", b"{}", token=ADMIN)[0] == 200
    status, _, body = server.request("POST", "/v2/models/tiny/infer", infer_json(), token=ADMIN)
    assert status == 503 and "unloaded by request" in json.loads(body)["error"]
    assert index(server, ADMIN)[("tiny", "1")]["reason"] == "unloaded by request"
    write_model(root, "tiny", 2, 2.0)  # explicit mode does not follow the disk by itself ...
    assert server.request("POST", "/v2/repository/models/tiny/load", b"{}", token=ADMIN)[0] == 200
    status, _, body = server.request("POST", "/v2/models/tiny/infer", infer_json(), token=ADMIN)
    assert status == 200 and json.loads(body)["model_version"] == "2"  # ... a load reads it again
    status, _, body = server.request("POST", "/v2/repository/models/nope/load", b"{}", token=ADMIN)
    assert status == 404 and "no model 'nope'" in json.loads(body)["error"]


def test_an_explicit_load_of_a_broken_model_says_why(tmp_path, start_server):
    root = tmp_path / "repo"
    write_model(root, "tiny", 1, 1.0)
    server = start_server(root, model_control_mode="explicit")
    break_version(root, "tiny", 1)
    (root / "tiny" / "1" / "architecture.json").touch()
    status, _, body = server.request("POST", "/v2/repository/models/tiny/load", b"{}")
    assert status == 400 and "version 1: ValueError" in json.loads(body)["error"]


def test_requests_for_the_latest_version_are_answered_while_a_version_churns(tmp_path, start_server):
    import threading

    from tinygrad_maas.serve.export import export

    root, source = tmp_path / "repo", tmp_path / "source"
    write_model(root, "tiny", 1, 1.0)
    write_model(source, "tiny", 2, 2.0)
    server = start_server(root, poll_seconds=0.05)
    stop, events = threading.Event(), []

    def churn():  # export version 2, corrupt it in place, remove it; again and again
        while not stop.is_set():
            export(str(source / "tiny" / "2"), str(root), "tiny", 2)
            time.sleep(0.1)
            with open(root / "tiny" / "2" / "weights.safetensors", "r+b") as file:
                file.write(b"\xff" * 16)
            time.sleep(0.1)
            shutil.rmtree(root / "tiny" / "2")
            events.append("round")
            time.sleep(0.05)

    churner = threading.Thread(target=churn)
    churner.start()
    answers, deadline = [], time.time() + 3
    while time.time() < deadline:
        answers.append(answer(server))
    stop.set()
    churner.join()
    assert len(events) >= 5 and all(status == 200 for status, _ in answers)
    for _, body in answers:
        scale = {"1": 1.0, "2": 2.0}[body["model_version"]]
        np.testing.assert_allclose(body["outputs"][0]["data"], expected(scale).reshape(-1))
