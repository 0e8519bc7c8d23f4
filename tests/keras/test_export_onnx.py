"""Keras models export to ONNX (Keras 3's model.export(path, format="onnx")): onnxruntime's answers equal
model.predict's, for any batch size."""

import numpy as np
import pytest

from tinygrad_maas import keras

onnx = pytest.importorskip("onnx", reason="the onnx extra is not installed")
ort = pytest.importorskip("onnxruntime", reason="onnxruntime (a dev extra) is not installed")

rng = np.random.default_rng(3)


def runtime_outputs(path, *inputs):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {i.name: x for i, x in zip(session.get_inputs(), inputs)})


def test_a_sequential_convnet(tmp_path):
    model = keras.Sequential(
        [
            keras.Input((12, 12, 1)),
            keras.layers.Conv2D(4, 3, activation="relu"),
            keras.layers.MaxPooling2D(),
            keras.layers.Flatten(),
            keras.layers.Dropout(0.3),
            keras.layers.Dense(5, activation="softmax"),
        ]
    )
    model.export(tmp_path / "convnet.onnx", verbose=False)
    for batch in (1, 6):
        x = rng.standard_normal((batch, 12, 12, 1)).astype(np.float32)
        (got,) = runtime_outputs(tmp_path / "convnet.onnx", x)
        np.testing.assert_allclose(got, model.predict(x), rtol=1e-5, atol=1e-6)


def test_a_functional_model_with_two_named_outputs(tmp_path):
    inputs = keras.Input((5,), name="features")
    hidden = keras.layers.Dense(8, activation="relu")(inputs)
    model = keras.Model(inputs, [keras.layers.Dense(2, name="scores")(hidden), keras.layers.Dense(1, name="p")(hidden)])
    model.export(tmp_path / "two.onnx", verbose=False)
    graph = onnx.load(tmp_path / "two.onnx").graph
    assert [i.name for i in graph.input] == ["features"]
    x = rng.standard_normal((4, 5)).astype(np.float32)
    for got, expected in zip(runtime_outputs(tmp_path / "two.onnx", x), model.predict(x)):
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_a_recurrent_text_model_with_variable_length(tmp_path):
    inputs = keras.Input((None,), dtype="int64", name="tokens")
    hidden = keras.layers.GRU(6)(keras.layers.Embedding(30, 8)(inputs))
    model = keras.Model(inputs, keras.layers.Dense(2)(hidden))
    model.export(tmp_path / "text.onnx", verbose=False)
    for shape in ((2, 4), (5, 9)):
        tokens = rng.integers(0, 30, shape)
        (got,) = runtime_outputs(tmp_path / "text.onnx", tokens)
        np.testing.assert_allclose(got, model.predict(tokens), rtol=1e-5, atol=1e-6)


def test_other_formats_are_refused_by_name(tmp_path):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    with pytest.raises(ValueError, match="only format='onnx'"):
        model.export(tmp_path / "m", format="tf_saved_model")
