"""model.save("m.keras"): one zip of JSON and safetensors, as Keras 3 writes; load_model restores the model,
its compile state and its optimizer's state, so training resumes exactly where it stopped."""

import json
import zipfile

import numpy as np
import pytest

from tinygrad_maas import keras

rng = np.random.default_rng(11)
X = rng.random((16, 5)).astype(np.float32)
Y_SCORES = rng.random((16, 2)).astype(np.float32)
Y_FLAG = (rng.random((16, 1)) > 0.5).astype(np.float32)


def two_headed():
    """A functional model: a shared trunk, two named outputs with their own losses."""
    inputs = keras.Input((5,), name="features")
    trunk = keras.layers.Dense(8, activation="relu")(inputs)
    scores = keras.layers.Dense(2, name="scores")(trunk)
    flag = keras.layers.Dense(1, activation="sigmoid", name="flag")(trunk)
    model = keras.Model(inputs, [scores, flag])
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=0.01),
        loss=["mse", keras.losses.BinaryCrossentropy()],
        metrics=["mae"],
    )
    return model


def test_the_file_is_one_zip_of_data(tmp_path):
    model = two_headed()
    model.fit(X, [Y_SCORES, Y_FLAG], epochs=1, verbose=0)
    model.save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as archive:
        assert sorted(archive.namelist()) == sorted(
            ["metadata.json", "config.json", "model.weights.safetensors", "optimizer.safetensors"]
        )
        config = json.loads(archive.read("config.json"))
    assert config["class_name"] == "Functional"
    assert config["compile_config"]["optimizer"] == {
        "class_name": "Adam",
        "config": {"learning_rate": 0.01, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7, "amsgrad": False},
    }


def test_a_functional_model_comes_back_with_its_predictions_and_resumes_training_exactly(tmp_path):
    model = two_headed()
    model.fit(X, [Y_SCORES, Y_FLAG], epochs=2, verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    for ours, theirs in zip(loaded.predict(X), model.predict(X)):
        np.testing.assert_array_equal(ours, theirs)
    assert loaded.compiled and loaded.output_names == ["scores", "flag"]
    resumed = loaded.fit(X, [Y_SCORES, Y_FLAG], epochs=1, verbose=0, shuffle=False).history
    continued = model.fit(X, [Y_SCORES, Y_FLAG], epochs=1, verbose=0, shuffle=False).history
    assert resumed == continued  # Adam's moments and step count came back too


def test_a_sequential_keeps_its_loss_and_metrics(tmp_path):
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(3, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.save(tmp_path / "s.keras")
    loaded = keras.models.load_model(tmp_path / "s.keras")
    labels = rng.integers(0, 3, 16)
    assert loaded.evaluate(X, labels, verbose=0) == pytest.approx(model.evaluate(X, labels, verbose=0))


def test_shared_layers_and_two_inputs_survive(tmp_path):
    left, right = keras.Input((4,), name="left"), keras.Input((4,), name="right")
    shared = keras.layers.Dense(3)
    model = keras.Model([left, right], keras.layers.Concatenate()([shared(left), shared(right)]))
    model.save(tmp_path / "shared.keras")
    loaded = keras.models.load_model(tmp_path / "shared.keras")
    a, b = rng.random((2, 4)).astype(np.float32), rng.random((2, 4)).astype(np.float32)
    np.testing.assert_array_equal(loaded.predict([a, b]), model.predict([a, b]))
    assert len(loaded.layers) == len(model.layers)  # the shared Dense is one layer, not two


def test_a_loss_function_of_yours_saves_the_model_uncompiled_with_a_warning(tmp_path):
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(1)])
    model.compile("adam", loss=lambda y_true, y_pred: ((y_true - y_pred) ** 2).mean())
    with pytest.warns(UserWarning, match="compile arguments are not saved"):
        model.save(tmp_path / "custom.keras")
    assert not keras.models.load_model(tmp_path / "custom.keras").compiled


def test_files_that_are_not_ours_are_refused_by_name(tmp_path):
    (tmp_path / "garbage.keras").write_bytes(b"not a zip at all")
    with pytest.raises(ValueError, match="not a .keras file"):
        keras.models.load_model(tmp_path / "garbage.keras")
    with zipfile.ZipFile(tmp_path / "real_keras.keras", "w") as archive:  # what Keras itself writes
        archive.writestr("config.json", "{}")
        archive.writestr("model.weights.h5", b"\x89HDF")
    with pytest.raises(ValueError, match="HDF5 weights"):
        keras.models.load_model(tmp_path / "real_keras.keras")


def test_a_config_over_its_size_limit_is_refused_before_it_is_read(tmp_path):
    with zipfile.ZipFile(tmp_path / "big.keras", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("config.json", " " * (2 * 1024 * 1024))  # compresses to almost nothing
        archive.writestr("model.weights.safetensors", b"")
    with pytest.raises(ValueError, match="config.json is 2097152 bytes, over the limit"):
        keras.models.load_model(tmp_path / "big.keras")


def test_a_layer_type_outside_the_table_is_refused(tmp_path):
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(1)])
    model.save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    config = json.loads(members["config.json"])
    config["config"]["layers"][0]["class_name"] = "Lambda"
    members["config.json"] = json.dumps(config)
    with zipfile.ZipFile(tmp_path / "tampered.keras", "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    with pytest.raises(ValueError, match="unknown keras layer type 'Lambda'"):
        keras.models.load_model(tmp_path / "tampered.keras")


def test_a_subclassed_model_points_to_its_weights():
    class Mine(keras.Model):
        def call(self, inputs):
            return inputs

    with pytest.raises(NotImplementedError, match="save_weights"):
        Mine().save("mine.keras")
