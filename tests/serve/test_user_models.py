"""A user's own models served: a custom nn.Module exported to ONNX (<model>/<version>/model.onnx, Triton's
layout) or traced with tm.jit, and a PyTorch export, are served in JSON and binary with the answers of the
model in process; broken files make only their own version unavailable."""

import io
import json

import numpy as np
import pytest

import tinygrad_maas as tm
from tinygrad_maas import nn
from tinygrad_maas.nn import functional as F

pytest.importorskip("uvicorn", reason="serving needs the serve extra: starlette, uvicorn")
pytest.importorskip("onnx", reason="ONNX models need the onnx extra")

from tests.serve.conftest import write_model  # noqa: E402

SAMPLES = np.random.default_rng(5).standard_normal((3, 6)).astype(np.float32)


class Residual(nn.Module):
    """A user's own module: no Sequential, a skip connection, a normalisation."""

    def __init__(self):
        super().__init__()
        self.inner, self.norm, self.head = nn.Linear(6, 6), nn.LayerNorm(6), nn.Linear(6, 4)

    def forward(self, x):
        return self.head(self.norm(x + F.gelu(self.inner(x))))


def write_onnx(folder, data):
    folder.mkdir(parents=True)
    (folder / "model.onnx").write_bytes(data)


def our_export(model, example, dynamic=True):
    buffer = io.BytesIO()
    options = {"input_names": ["features"], "output_names": ["scores"]}
    if dynamic:
        options["dynamic_axes"] = {"features": {0: "batch"}, "scores": {0: "batch"}}
    tm.onnx.export(model, (tm.tensor(example),), buffer, **options)
    return buffer.getvalue()


def in_process(model):
    model.eval()
    with tm.no_grad():
        return model(tm.tensor(SAMPLES)).numpy()


@pytest.fixture(scope="module")
def onnx_repository(tmp_path_factory):
    root = tmp_path_factory.mktemp("onnx_repository")
    tm.manual_seed(4)
    model = Residual()
    write_onnx(root / "custom" / "1", our_export(model, SAMPLES[:2]))
    write_onnx(root / "garbage" / "1", b"\x08\x07 this is not a protobuf message" * 4)
    write_onnx(root / "fixed_batch" / "1", our_export(Residual(), SAMPLES[:2], dynamic=False))
    write_onnx(root / "unsupported" / "1", graph_with_node("NonMaxSuppression"))
    write_onnx(root / "escaping" / "1", graph_with_external_data("../../../secret.bin"))
    write_model(root, "tiny", 1, 1.0)
    tm.jit.trace(model, tm.tensor(SAMPLES[:2])).save(root / "traced" / "1")
    return root, in_process(model)


def graph_with_node(op_type):
    import onnx

    h = onnx.helper
    graph = h.make_graph(
        [h.make_node(op_type, ["x"], ["y"], name="the_node")],
        "g",
        [h.make_tensor_value_info("x", onnx.TensorProto.FLOAT, ["n", 6])],
        [h.make_tensor_value_info("y", onnx.TensorProto.FLOAT, ["n", 6])],
    )
    return h.make_model(graph, opset_imports=[h.make_opsetid("", 18)]).SerializeToString()


def graph_with_external_data(location):
    import onnx

    h = onnx.helper
    weight = onnx.TensorProto(name="w", data_type=onnx.TensorProto.FLOAT, dims=[6, 6])
    weight.data_location = onnx.TensorProto.EXTERNAL
    entry = weight.external_data.add()
    entry.key, entry.value = "location", location
    graph = h.make_graph(
        [h.make_node("MatMul", ["x", "w"], ["y"])],
        "g",
        [h.make_tensor_value_info("x", onnx.TensorProto.FLOAT, ["n", 6])],
        [h.make_tensor_value_info("y", onnx.TensorProto.FLOAT, ["n", 6])],
        initializer=[weight],
    )
    return h.make_model(graph, opset_imports=[h.make_opsetid("", 18)]).SerializeToString()


def infer_body(data, name="features"):
    return {"inputs": [{"name": name, "datatype": "FP32", "shape": list(data.shape), "data": data.ravel().tolist()}]}


def test_a_custom_module_exported_to_onnx_is_served_in_json(onnx_repository, start_server):
    root, expected = onnx_repository
    server = start_server(root)
    status, _, body = server.request("POST", "/v2/models/custom/infer", infer_body(SAMPLES))
    assert status == 200, body
    (output,) = json.loads(body)["outputs"]
    assert output["name"] == "scores" and output["shape"] == [3, 4]
    np.testing.assert_allclose(np.array(output["data"]).reshape(3, 4), expected, rtol=1e-5, atol=1e-6)


def test_the_same_module_traced_with_jit_is_served_from_its_json_graph(onnx_repository, start_server):
    root, expected = onnx_repository
    server = start_server(root)
    metadata = json.loads(server.request("GET", "/v2/models/traced")[2])
    assert metadata["inputs"] == [{"name": "input", "datatype": "FP32", "shape": [-1, 6]}]
    status, _, body = server.request("POST", "/v2/models/traced/infer", infer_body(SAMPLES, "input"))
    assert status == 200, body
    np.testing.assert_allclose(np.array(json.loads(body)["outputs"][0]["data"]).reshape(3, 4), expected, 1e-5, 1e-6)


def test_a_keras_model_exported_to_onnx_is_served(tmp_path, start_server):
    from tinygrad_maas import keras

    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(5, activation="tanh"), keras.layers.Dense(2)])
    (tmp_path / "keras_model" / "1").mkdir(parents=True)
    model.export(tmp_path / "keras_model" / "1" / "model.onnx", verbose=False)
    server = start_server(tmp_path)
    status, _, body = server.request("POST", "/v2/models/keras_model/infer", infer_body(SAMPLES, "input"))
    assert status == 200, body
    np.testing.assert_allclose(np.array(json.loads(body)["outputs"][0]["data"]).reshape(3, 2), model.predict(SAMPLES))
    httpclient = pytest.importorskip("tritonclient.http", reason='needs pip install "tritonclient[http]"')
    client = httpclient.InferenceServerClient(url=f"127.0.0.1:{server.port}")
    tensor = httpclient.InferInput("input", list(SAMPLES.shape), "FP32")
    tensor.set_data_from_numpy(SAMPLES, binary_data=True)
    result = client.infer(
        "keras_model", [tensor], outputs=[httpclient.InferRequestedOutput("output", binary_data=True)]
    )
    np.testing.assert_allclose(result.as_numpy("output"), model.predict(SAMPLES), rtol=1e-6)


def test_a_keras_file_is_exported_by_the_cli_and_served(tmp_path, start_server, capsys):
    from tinygrad_maas import keras
    from tinygrad_maas.__main__ import main

    inputs = keras.Input((6,), name="features")
    model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(keras.layers.Dense(5)(inputs)))
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.save(tmp_path / "classifier.keras")
    assert (
        main(["export", str(tmp_path / "classifier.keras"), "--repository", str(tmp_path / "repo"), "--name", "k"]) == 0
    )
    assert sorted(p.name for p in (tmp_path / "repo" / "k" / "1").iterdir()) == ["model.keras"]
    np.save(tmp_path / "samples.npy", SAMPLES)
    capsys.readouterr()
    assert main(["predict", str(tmp_path / "classifier.keras"), str(tmp_path / "samples.npy")]) == 0
    rows = [[float(v) for v in line.split()] for line in capsys.readouterr().out.splitlines()]
    np.testing.assert_allclose(rows, model.predict(SAMPLES), rtol=1e-6)
    server = start_server(tmp_path / "repo")
    status, _, body = server.request("POST", "/v2/models/k/infer", infer_body(SAMPLES, "features"))
    assert status == 200, body
    np.testing.assert_allclose(np.array(json.loads(body)["outputs"][0]["data"]).reshape(3, 3), model.predict(SAMPLES))


def test_its_signature_comes_from_the_graph(onnx_repository, start_server):
    server = start_server(onnx_repository[0])
    metadata = json.loads(server.request("GET", "/v2/models/custom")[2])
    assert metadata["inputs"] == [{"name": "features", "datatype": "FP32", "shape": [-1, 6]}]
    assert metadata["outputs"] == [{"name": "scores", "datatype": "FP32", "shape": [-1, 4]}]


def test_binary_requests_with_tritonclient(onnx_repository, start_server):
    httpclient = pytest.importorskip("tritonclient.http", reason='needs pip install "tritonclient[http]"')
    root, expected = onnx_repository
    server = start_server(root)
    client = httpclient.InferenceServerClient(url=f"127.0.0.1:{server.port}")
    tensor = httpclient.InferInput("features", list(SAMPLES.shape), "FP32")
    tensor.set_data_from_numpy(SAMPLES, binary_data=True)
    result = client.infer("custom", [tensor], outputs=[httpclient.InferRequestedOutput("scores", binary_data=True)])
    np.testing.assert_allclose(result.as_numpy("scores"), expected, rtol=1e-5, atol=1e-6)


def test_broken_onnx_files_are_unavailable_with_the_reason_and_the_rest_serves(onnx_repository, start_server):
    server = start_server(onnx_repository[0])
    states = {m["name"]: m for m in json.loads(server.request("POST", "/v2/repository/index")[2])}
    assert states["garbage"]["state"] == "UNAVAILABLE" and "not an ONNX model" in states["garbage"]["reason"]
    assert states["fixed_batch"]["state"] == "UNAVAILABLE" and "fixed batch size 2" in states["fixed_batch"]["reason"]
    assert "node 'the_node' uses the operator NonMaxSuppression" in states["unsupported"]["reason"]
    assert "outside the model's folder" in states["escaping"]["reason"]
    assert states["custom"]["state"] == "READY" and states["tiny"]["state"] == "READY"
    status, _, _ = server.request("POST", "/v2/models/tiny/infer", infer_body(np.ones((1, 2, 2), np.float32), "input"))
    assert status == 200


def test_a_pytorch_export_dropped_into_the_repository_is_served(tmp_path, start_server):
    torch = pytest.importorskip("torch", reason="PyTorch is not installed: no PyTorch export to serve")
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3)).eval()
    buffer = io.BytesIO()
    torch.onnx.export(
        model,
        (torch.zeros(1, 6),),
        buffer,
        dynamo=False,
        input_names=["x"],
        output_names=["y"],
        dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}},
    )
    write_onnx(tmp_path / "from_pytorch" / "1", buffer.getvalue())
    server = start_server(tmp_path)
    status, _, body = server.request("POST", "/v2/models/from_pytorch/infer", infer_body(SAMPLES, "x"))
    assert status == 200, body
    with torch.no_grad():
        expected = model(torch.from_numpy(SAMPLES)).numpy()
    np.testing.assert_allclose(np.array(json.loads(body)["outputs"][0]["data"]).reshape(3, 3), expected, 1e-5, 1e-6)


def test_the_cli_exports_an_onnx_file_and_predicts_with_it(tmp_path, capsys):
    from tinygrad_maas.__main__ import main

    tm.manual_seed(4)
    model = Residual()
    (tmp_path / "residual.onnx").write_bytes(our_export(model, SAMPLES[:2]))
    np.save(tmp_path / "samples.npy", SAMPLES)
    main(["predict", str(tmp_path / "residual.onnx"), str(tmp_path / "samples.npy")])
    rows = [[float(v) for v in line.split()] for line in capsys.readouterr().out.splitlines()]
    np.testing.assert_allclose(rows, in_process(model), rtol=1e-5, atol=1e-6)  # every output of every row
    main(["export", str(tmp_path / "residual.onnx"), "--repository", str(tmp_path / "repo"), "--name", "residual"])
    assert sorted(p.name for p in (tmp_path / "repo" / "residual" / "1").iterdir()) == ["model.onnx"]


def test_the_cli_refuses_to_export_a_broken_onnx_file(tmp_path, capsys):
    from tinygrad_maas.__main__ import main

    (tmp_path / "broken.onnx").write_bytes(b"garbage" * 10)
    assert main(["export", str(tmp_path / "broken.onnx"), "--repository", str(tmp_path), "--name", "broken"]) == 2
    assert "broken.onnx' is not an ONNX model" in capsys.readouterr().err
    assert not (tmp_path / "broken").exists()
