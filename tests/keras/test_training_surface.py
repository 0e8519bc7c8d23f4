"""Keras' training surface: batch-level callbacks, CSVLogger, LambdaCallback, fit's class_weight /
sample_weight / initial_epoch / steps_per_epoch, the *_on_batch methods, weights in and out, initialisers,
regularizers and BatchNormalization(axis=), each as Keras behaves."""

import csv

import numpy as np
import pytest

import tinygrad_maas as tm
from tinygrad_maas import keras
from tinygrad_maas.keras import layers


def small_model(loss="mse", **dense):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input(shape=(3,)), layers.Dense(1, **dense)])
    model.compile(keras.optimizers.SGD(learning_rate=0.1) if hasattr(keras.optimizers, "SGD") else "sgd", loss)
    return model


def data(n=8):
    x = np.random.default_rng(0).random((n, 3)).astype(np.float32)
    return x, x.sum(1, keepdims=True)


def test_batch_hooks_lambda_callback_and_csv_logger(tmp_path):
    x, y = data()
    batches = []
    log = tmp_path / "log.csv"
    callback = keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda batch, logs: batches.append((batch, logs["loss"]))
    )
    small_model().fit(x, y, batch_size=4, epochs=2, verbose=0, callbacks=[callback, keras.callbacks.CSVLogger(log)])
    assert [b for b, _ in batches] == [0, 1, 0, 1]  # batch numbers restart each epoch, as Keras
    rows = list(csv.reader(open(log)))
    assert rows[0] == ["epoch", "loss"] and [r[0] for r in rows[1:]] == ["0", "1"]


def test_model_checkpoint_on_a_missing_metric_warns(tmp_path):
    x, y = data()
    checkpoint = keras.callbacks.ModelCheckpoint(tmp_path / "m", monitor="val_accuracy", save_best_only=True)
    with pytest.warns(UserWarning, match="val_accuracy available, skipping"):
        small_model().fit(x, y, epochs=1, verbose=0, callbacks=[checkpoint])


def test_sample_weight_counts_a_sample_as_if_repeated():
    x, y = data(4)
    weighted = small_model()
    weighted.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0, sample_weight=np.array([2.0, 1, 1, 1]))
    repeated = small_model()
    repeated.fit(
        np.concatenate([x, x[:1]]), np.concatenate([y, y[:1]]), batch_size=5, epochs=1, shuffle=False, verbose=0
    )
    # sum(w * l) / 4 against sum(l) / 5: the same direction, scaled by 5 / 4
    weighted_step = weighted.get_weights()[0] - small_model().get_weights()[0]
    repeated_step = repeated.get_weights()[0] - small_model().get_weights()[0]
    np.testing.assert_allclose(weighted_step, repeated_step * 5 / 4, rtol=1e-4)


def test_class_weight_scales_each_class():
    model = small_model("binary_crossentropy", activation="sigmoid")
    x = np.ones((2, 3), np.float32)
    p = float(model.predict(x)[0, 0])
    history = model.fit(x, np.array([1, 0]), epochs=1, verbose=0, shuffle=False, class_weight={0: 0.0, 1: 2.0})
    assert history.history["loss"][0] == pytest.approx(-np.log(p), rel=1e-5)  # (2 (-log p) + 0 (-log(1-p))) / 2
    with pytest.raises(ValueError, match=r"no weight for class\(es\) \[0\]"):
        model.fit(x, np.array([1, 0]), epochs=1, verbose=0, class_weight={1: 1.0})


def test_initial_epoch_and_steps_per_epoch():
    x, y = data(8)
    seen = []
    callback = keras.callbacks.LambdaCallback(on_epoch_begin=lambda epoch, logs: seen.append(epoch))
    batches = []
    counter = keras.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: batches.append(batch))
    small_model().fit(
        x, y, batch_size=2, epochs=3, initial_epoch=1, steps_per_epoch=2, verbose=0, callbacks=[callback, counter]
    )
    assert seen == [1, 2] and batches == [0, 1, 0, 1]


def test_on_batch_methods_and_weights_in_and_out(tmp_path):
    x, y = data(4)
    model = small_model()
    before = model.test_on_batch(x, y)
    model.train_on_batch(x, y)
    assert model.test_on_batch(x, y) < before
    np.testing.assert_allclose(model.predict_on_batch(x), model.predict(x))
    weights = model.get_weights()
    assert [w.shape for w in weights] == [(3, 1), (1,)]
    other = small_model()
    other.set_weights(weights)
    np.testing.assert_allclose(other.predict(x), model.predict(x))
    with pytest.raises(ValueError, match="has shape \\(3, 1\\), got an array of shape \\(2, 1\\)"):
        other.set_weights([np.zeros((2, 1)), np.zeros(1)])
    model.save_weights(tmp_path / "model.weights.safetensors")
    third = small_model()
    third.load_weights(tmp_path / "model.weights.safetensors")
    np.testing.assert_allclose(third.predict(x), model.predict(x))
    assert model.train_on_batch(x, y, return_dict=True).keys() == {"loss"}


def test_initializers_and_regularizers():
    ones = layers.Dense(2, kernel_initializer="ones", bias_initializer="ones")
    assert ones(tm.ones(1, 3)).tolist() == [[4.0, 4.0]]
    he = layers.Conv2D(64, 3, kernel_initializer=keras.initializers.HeNormal())
    he(tm.zeros(1, 5, 5, 8))
    assert abs(he.kernel.array.std() - np.sqrt(2 / 72)) < 0.01  # he_normal: std sqrt(2 / fan_in)
    model = small_model(kernel_regularizer=keras.regularizers.l2(0.5))
    kernel = model.get_weights()[0]
    x, y = data(4)
    with tm.no_grad():
        plain = float(((model(tm.tensor(x)).array - y) ** 2).mean())
    assert model.test_on_batch(x, y) == pytest.approx(plain + 0.5 * float((kernel**2).sum()), rel=1e-5)


def test_batch_normalization_on_another_axis():
    layer = layers.BatchNormalization(axis=1)
    x = tm.tensor(np.random.default_rng(0).normal(3.0, 2.0, (16, 4, 5)).astype(np.float32))
    out = layer(x, training=True)
    assert layer.gamma.shape == (4,)
    np.testing.assert_allclose(out.array.mean(axis=(0, 2)), 0.0, atol=1e-5)
