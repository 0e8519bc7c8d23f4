"""The Keras-style API: Keras' parameter counts, agreement with the PyTorch-style layers (same weights,
same outputs), training, callbacks, saving, and clear errors."""

import numpy as np
import pytest

import tinygrad_maas as tm
import tinygrad_maas.nn as nn
from tinygrad_maas import keras
from tinygrad_maas.autograd import gradcheck

RNG = np.random.default_rng(0)


def example_4_model():
    return keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            keras.layers.Conv2D(32, (3, 3), activation="relu"),
            keras.layers.MaxPooling2D((2, 2)),
            keras.layers.Conv2D(64, (3, 3), activation="relu"),
            keras.layers.MaxPooling2D((2, 2)),
            keras.layers.Flatten(),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )


def test_summary_parameter_counts_equal_keras():
    lines = []
    example_4_model().summary(print_fn=lines.append)
    counts = [int(line.split()[-1].replace(",", "")) for line in lines if "(Conv2D)" in line or "(Dense)" in line]
    assert counts == [320, 18_496, 102_464, 650]
    assert "Total params: 121,930" in lines
    assert any("(None, 5, 5, 64)" in line for line in lines)
    assert any(line.startswith("max_pooling2d") for line in lines)


def _tensor(*shape):
    return tm.tensor(RNG.standard_normal(shape).astype(np.float32))


def test_dense_equals_linear_with_the_transposed_kernel():
    dense = keras.layers.Dense(4)
    x = _tensor(3, 5)
    out = dense(x)
    linear = nn.Linear(5, 4)
    linear.load_state_dict({"weight": dense.kernel.array.T, "bias": dense.bias.array})
    np.testing.assert_allclose(out.array, linear(x).array, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("strides, padding", [((1, 1), "valid"), ((2, 2), "same"), ((1, 2), "same")])
def test_conv2d_channels_last_equals_conv2d_channels_first(strides, padding):
    conv = keras.layers.Conv2D(4, (3, 3), strides=strides, padding=padding)
    x = _tensor(2, 7, 6, 3)
    out = conv(x)
    twin = nn.Conv2d(3, 4, 3, stride=strides)
    twin.load_state_dict({"weight": conv.kernel.array.transpose(3, 2, 0, 1), "bias": conv.bias.array})
    images = x.permute(0, 3, 1, 2)
    if padding == "same":  # TensorFlow's rule: output ceil(n / stride), extra padding at the end
        pads = [max((-(-n // s) - 1) * s + 3 - n, 0) for n, s in zip((7, 6), strides)]
        images = nn.functional.pad(images, (pads[1] // 2, pads[1] - pads[1] // 2, pads[0] // 2, pads[0] - pads[0] // 2))
    expected = twin(images).permute(0, 2, 3, 1)
    assert out.shape == expected.shape
    np.testing.assert_allclose(out.array, expected.array, rtol=1e-5, atol=1e-5)
    if padding == "same":
        assert out.shape[1:3] == tuple(-(-n // s) for n, s in zip((7, 6), strides))


def test_gru_equals_the_pytorch_style_gru_with_reordered_gates():
    layer = keras.layers.GRU(4, return_sequences=True)
    x = _tensor(2, 5, 3)
    out = layer(x)
    u = 4

    def reorder(matrix):  # Keras z, r, h -> PyTorch r, z, n
        return np.concatenate([matrix[..., u : 2 * u], matrix[..., :u], matrix[..., 2 * u :]], axis=-1)

    twin = nn.GRU(3, 4, batch_first=True)
    twin.load_state_dict(
        {
            "weight_ih_l0": reorder(layer.kernel.array).T,
            "weight_hh_l0": reorder(layer.recurrent_kernel.array).T,
            "bias_ih_l0": reorder(layer.bias.array[0]),
            "bias_hh_l0": reorder(layer.bias.array[1]),
        }
    )
    np.testing.assert_allclose(out.array, twin(x)[0].array, rtol=1e-5, atol=1e-6)
    assert keras.layers.GRU(4)(x).shape == (2, 4)  # last step only by default


def test_lstm_equals_the_pytorch_style_lstm_and_starts_with_forget_bias_one():
    layer = keras.layers.LSTM(3)
    x = _tensor(2, 4, 5)
    out = layer(x)
    assert layer.bias.array[3:6].tolist() == [1.0, 1.0, 1.0]
    twin = nn.LSTM(5, 3, batch_first=True, bias=False)
    twin.load_state_dict({"weight_ih_l0": layer.kernel.array.T, "weight_hh_l0": layer.recurrent_kernel.array.T})
    expected, _ = twin(x + 0)  # bias folded in below
    layer.bias.array[...] = 0
    np.testing.assert_allclose(layer(x).array, expected.array[:, -1], rtol=1e-5, atol=1e-6)
    assert out.shape == (2, 3)


def test_embedding_and_pooling_equal_their_twins():
    embedding = keras.layers.Embedding(10, 3)
    tokens = tm.tensor([[1, 2, 2], [9, 0, 1]])
    out = embedding(tokens)
    np.testing.assert_array_equal(out.array, embedding.embeddings.array[tokens.array])
    assert np.abs(embedding.embeddings.array).max() <= 0.05
    x = _tensor(2, 6, 4, 3)
    pooled = keras.layers.MaxPooling2D((2, 2))(x)
    np.testing.assert_array_equal(pooled.array, nn.MaxPool2d(2)(x.permute(0, 3, 1, 2)).permute(0, 2, 3, 1).array)


def test_batch_normalization_uses_keras_momentum_and_moving_statistics():
    layer = keras.layers.BatchNormalization()
    x = _tensor(8, 3)
    layer(x)
    np.testing.assert_allclose(layer.moving_mean.array, 0.01 * x.array.mean(0), rtol=1e-5)
    np.testing.assert_allclose(layer.moving_variance.array, 0.99 + 0.01 * x.array.var(0), rtol=1e-5)
    layer.eval()
    np.testing.assert_allclose(
        layer(x).array, (x.array - layer.moving_mean.array) / np.sqrt(layer.moving_variance.array + 1e-3), rtol=1e-5
    )


def test_keras_layers_have_correct_gradients():
    model = keras.Sequential(
        [
            keras.Input(shape=(5, 4, 2)),
            keras.layers.Conv2D(3, 2, padding="same"),
            keras.layers.Flatten(),
            keras.layers.Dense(2, activation="tanh"),
        ]
    )
    model.double()
    x = tm.tensor(RNG.standard_normal((2, 5, 4, 2)), requires_grad=True)
    assert gradcheck(lambda x, *ps: model(x), (x, *model.parameters()))


def _digits():
    from tinygrad_maas.data import datasets

    x, y = datasets.load_digits("train")
    return x.reshape(-1, 64), y


def test_fit_learns_and_returns_a_history():
    tm.manual_seed(0)
    x, y = _digits()
    model = keras.Sequential(
        [keras.layers.Dense(32, activation="relu", input_shape=(64,)), keras.layers.Dense(10, activation="softmax")]
    )
    model.compile(keras.optimizers.Adam(learning_rate=0.01), "sparse_categorical_crossentropy", ["accuracy"])
    history = model.fit(x, y, epochs=5, batch_size=64, validation_split=0.2, verbose=0)
    assert sorted(history.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert history.history["val_accuracy"][-1] > 0.85
    loss, accuracy = model.evaluate(x, y, verbose=0)
    assert accuracy > 0.85 and model.predict(x[:3]).shape == (3, 10)


def test_callbacks(tmp_path):
    tm.manual_seed(0)
    x, y = _digits()
    model = keras.Sequential([keras.layers.Dense(10, activation="softmax", input_shape=(64,))])
    model.compile(keras.optimizers.SGD(learning_rate=0.0), "sparse_categorical_crossentropy")  # never improves
    history = model.fit(
        x,
        y,
        epochs=10,
        validation_split=0.2,
        verbose=0,
        callbacks=[
            keras.callbacks.EarlyStopping(patience=2),
            keras.callbacks.ModelCheckpoint(str(tmp_path / "ckpt-{epoch}")),
        ],
    )
    assert len(history.history["loss"]) == 3  # the first epoch sets the best, two more without improvement
    assert (tmp_path / "ckpt-3" / "architecture.json").exists()  # the one saved-model format (nn/architecture.py)
    seen = []
    model.compile(keras.optimizers.SGD(learning_rate=0.1), "sparse_categorical_crossentropy")
    model.fit(
        x[:64],
        y[:64],
        epochs=3,
        verbose=0,
        callbacks=[keras.callbacks.LearningRateScheduler(lambda epoch, lr: seen.append(lr) or 0.1 / (epoch + 1))],
    )
    assert seen[1:] == pytest.approx([0.1, 0.05])
    model.learning_rate = 1e-12  # too small to improve val_loss by min_delta: a plateau
    model.fit(
        x,
        y,
        epochs=3,
        validation_split=0.2,
        verbose=0,
        callbacks=[keras.callbacks.ReduceLROnPlateau(factor=0.5, patience=1)],
    )
    assert model.learning_rate == pytest.approx(0.25e-12)  # halved after epochs 2 and 3


def test_save_and_load_model(tmp_path):
    model = example_4_model()
    model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
    x = RNG.random((2, 28, 28, 1)).astype(np.float32)
    model.save(str(tmp_path / "model"))
    loaded = keras.models.load_model(str(tmp_path / "model"))
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))


def test_a_keras_model_is_saved_in_the_one_saved_model_format(tmp_path):
    from tinygrad_maas.nn.architecture import load_model as load_saved_model

    model = keras.Sequential(
        [keras.layers.Embedding(20, 4, input_shape=(5,)), keras.layers.GRU(3), keras.layers.Dense(2)]
    )
    model.save(str(tmp_path / "m"))
    loaded, metadata = load_saved_model(str(tmp_path / "m"))
    tokens = RNG.integers(0, 20, (3, 5))
    np.testing.assert_allclose(loaded.predict(tokens), model.predict(tokens), rtol=1e-6)
    assert metadata["signature"]["inputs"] == [{"name": "input", "datatype": "INT64", "shape": [-1, 5]}]


def test_a_model_saved_as_config_json_by_earlier_versions_still_loads(tmp_path):
    import json

    model = keras.Sequential([keras.layers.Dense(3, input_shape=(4,))])
    (tmp_path / "old").mkdir()
    tm.save(model.state_dict(), tmp_path / "old" / "weights.safetensors")
    (tmp_path / "old" / "config.json").write_text(
        json.dumps({"format": "tinygrad_maas.keras/1", "config": model.get_config()})
    )
    x = RNG.random((2, 4)).astype(np.float32)
    np.testing.assert_allclose(keras.models.load_model(str(tmp_path / "old")).predict(x), model.predict(x))


def test_a_keras_architecture_asking_for_more_than_its_weights_is_stopped_before_allocating(tmp_path):
    import json

    keras.Sequential([keras.layers.Dense(3, input_shape=(4,))]).save(str(tmp_path / "m"))
    description = json.loads((tmp_path / "m" / "architecture.json").read_text())
    description["architecture"]["layers"][0]["config"]["units"] = 10**9
    (tmp_path / "m" / "architecture.json").write_text(json.dumps(description))
    with pytest.raises(ValueError, match="more than the 15 elements left of the weights file's"):
        keras.models.load_model(str(tmp_path / "m"))


def test_errors_name_the_problem():
    model = keras.Sequential([keras.layers.Dense(3, activation="softmax", input_shape=(4,))])
    x, y = RNG.random((8, 4)), np.array([0, 1, 2, 0, 1, 2, 0, 5])
    with pytest.raises(RuntimeError, match="must be compiled before training"):
        model.fit(x, y)
    model.compile("sgd", "sparse_categorical_crossentropy", ["accuracy"])
    with pytest.raises(ValueError, match=r"label 5 is out of range for a model with 3 outputs"):
        model.fit(x, y, verbose=0)
    with pytest.raises(ValueError, match=r"expected input of shape \(None, 4\), got \(8, 5\)"):
        model.fit(RNG.random((8, 5)), y % 3, verbose=0)
    bad = x.copy()
    bad[3, 0] = np.nan
    with pytest.raises(FloatingPointError, match="at epoch 1, batch 1"):
        model.fit(bad, y % 3, batch_size=8, verbose=0)
    with pytest.raises(ValueError, match="unknown optimizer 'adamax'"):
        model.compile("adamax", "mse")


def test_simple_rnn_equals_the_pytorch_style_rnn():
    layer = keras.layers.SimpleRNN(4, return_sequences=True)
    x = _tensor(2, 5, 3)
    out = layer(x)
    twin = nn.RNN(3, 4, batch_first=True)
    twin.load_state_dict(
        {
            "weight_ih_l0": layer.kernel.array.T,
            "weight_hh_l0": layer.recurrent_kernel.array.T,
            "bias_ih_l0": layer.bias.array,
            "bias_hh_l0": np.zeros(4, np.float32),
        }
    )
    np.testing.assert_allclose(out.array, twin(x)[0].array, rtol=1e-5, atol=1e-6)


def test_history_plot_writes_a_png(tmp_path):
    pytest.importorskip("matplotlib", reason="plots need the plot extra: matplotlib")
    x, y = _digits()
    model = keras.Sequential([keras.layers.Dense(10, activation="softmax", input_shape=(64,))])
    model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
    history = model.fit(x, y, epochs=2, validation_split=0.2, verbose=0)
    path = history.plot(tmp_path / "curves.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 5000


def test_evaluate_and_predict_leave_the_mode_as_it_was():
    model = keras.Sequential([keras.layers.Dropout(0.5, input_shape=(4,)), keras.layers.Dense(2)])
    model.compile("sgd", "mse")
    model.eval()
    model.predict(np.ones((2, 4), np.float32))
    model.evaluate(np.ones((2, 4), np.float32), np.ones((2, 2), np.float32), verbose=0)
    assert not model.training
    model.train()
    model.predict(np.ones((2, 4), np.float32))
    assert model.training
