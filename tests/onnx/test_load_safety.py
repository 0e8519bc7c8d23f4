"""Loading is safe: a bad file is a clear error naming the problem, before anything is allocated or run."""

import numpy as np
import pytest

import tinygrad_maas as tm
from tinygrad_maas import nn

from .helpers import exported, onnx

h = onnx.helper


def small_model_bytes():
    return exported(nn.Linear(3, 2), tm.randn(2, 3))


def graph_with(initializer, op="Identity"):
    graph = h.make_graph(
        [h.make_node(op, ["w"], ["y"])],
        "g",
        [],
        [h.make_tensor_value_info("y", onnx.TensorProto.FLOAT, None)],
        initializer=[initializer],
    )
    return h.make_model(graph, opset_imports=[h.make_opsetid("", 18)])


def test_a_truncated_file_is_refused(tmp_path):
    path = tmp_path / "model.onnx"
    path.write_bytes(small_model_bytes()[:-20])
    with pytest.raises(ValueError, match="is not an ONNX model"):
        tm.onnx.load(path)


def test_garbage_is_refused():
    with pytest.raises(ValueError, match="is not an ONNX model"):
        tm.onnx.load(b"\x00\xffnot a protobuf at all" * 10)
    with pytest.raises(ValueError, match="is not an ONNX model"):
        tm.onnx.load(b"")


def test_an_unsupported_operator_is_named_with_its_node():
    graph = h.make_graph(
        [h.make_node("NonMaxSuppression", ["x"], ["y"], name="nms")],
        "g",
        [h.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [2])],
        [h.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [2])],
    )
    model = h.make_model(graph, opset_imports=[h.make_opsetid("", 18)])
    with pytest.raises(ValueError, match="node 'nms' uses the operator NonMaxSuppression"):
        tm.onnx.load(model.SerializeToString())


def test_a_custom_domain_operator_is_refused():
    graph = h.make_graph(
        [h.make_node("Run", ["x"], ["y"], domain="com.example.python", name="run")],
        "g",
        [h.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [2])],
        [h.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [2])],
    )
    model = h.make_model(graph, opset_imports=[h.make_opsetid("", 18), h.make_opsetid("com.example.python", 1)])
    with pytest.raises(ValueError, match="operator com.example.python.Run"):
        tm.onnx.load(model.SerializeToString())


def external(location, length=24, offset=0):
    tensor = onnx.TensorProto(name="w", data_type=onnx.TensorProto.FLOAT, dims=[2, 3])
    tensor.data_location = onnx.TensorProto.EXTERNAL
    for key, value in (("location", location), ("offset", str(offset)), ("length", str(length))):
        entry = tensor.external_data.add()
        entry.key, entry.value = key, value
    return tensor


@pytest.mark.parametrize("location", ["../secret.bin", "/etc/passwd", "inner/../../secret.bin"])
def test_external_data_cannot_escape_the_models_folder(tmp_path, location):
    (tmp_path / "secret.bin").write_bytes(b"\x00" * 64)
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "model.onnx").write_bytes(graph_with(external(location)).SerializeToString())
    with pytest.raises(ValueError, match="outside the model's folder"):
        tm.onnx.load(folder / "model.onnx")


def test_external_data_inside_the_folder_loads_and_is_size_checked(tmp_path):
    values = np.arange(6, dtype=np.float32)
    (tmp_path / "weights.bin").write_bytes(b"\x00" * 8 + values.tobytes())
    (tmp_path / "model.onnx").write_bytes(graph_with(external("weights.bin", offset=8)).SerializeToString())
    np.testing.assert_array_equal(tm.onnx.load(tmp_path / "model.onnx")().detach().numpy(), values.reshape(2, 3))
    (tmp_path / "short.onnx").write_bytes(graph_with(external("weights.bin", offset=16)).SerializeToString())
    with pytest.raises(ValueError, match="which the file does not hold"):
        tm.onnx.load(tmp_path / "short.onnx")


def test_an_absurd_tensor_size_is_refused_before_allocating():
    tensor = onnx.TensorProto(name="w", data_type=onnx.TensorProto.FLOAT, dims=[10**6, 10**6, 10**6])
    with pytest.raises(ValueError, match="initializer 'w' of shape .* over the limit"):
        tm.onnx.load(graph_with(tensor).SerializeToString())


def test_raw_data_shorter_than_its_dims_is_refused():
    tensor = onnx.TensorProto(name="w", data_type=onnx.TensorProto.FLOAT, dims=[100], raw_data=b"\x00" * 8)
    with pytest.raises(ValueError, match="needs 400 bytes, holds 8"):
        tm.onnx.load(graph_with(tensor).SerializeToString())


def test_a_file_over_the_size_limit_is_refused(tmp_path):
    path = tmp_path / "model.onnx"
    path.write_bytes(small_model_bytes())
    with pytest.raises(ValueError, match="over the limit of 10"):
        tm.onnx.load(path, max_bytes=10)


def test_a_node_reading_a_value_nothing_made_is_refused():
    graph = h.make_graph(
        [h.make_node("Relu", ["missing"], ["y"], name="relu")],
        "g",
        [],
        [h.make_tensor_value_info("y", onnx.TensorProto.FLOAT, None)],
    )
    model = h.make_model(graph, opset_imports=[h.make_opsetid("", 18)])
    with pytest.raises(ValueError, match="node 'relu' reads 'missing'"):
        tm.onnx.load(model.SerializeToString())
