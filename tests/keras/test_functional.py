"""Keras' functional API and the layers, losses and utils Keras programs use, with Keras' semantics."""

import numpy as np
import pytest

import tinygrad_maas as tm
from tinygrad_maas import keras
from tinygrad_maas.keras import layers


def test_input_is_symbolic_and_layers_called_on_it_give_shapes():
    inputs = keras.Input(shape=(None,), dtype="int32")
    x = layers.Embedding(50, 8)(inputs)
    assert isinstance(x, keras.KerasTensor) and x.shape == (None, None, 8)
    y = layers.Bidirectional(layers.LSTM(4, return_sequences=True))(x)
    assert y.shape == (None, None, 8)  # forward and backward concatenated
    z = layers.GlobalMaxPooling1D()(y)
    assert z.shape == (None, 8)


def test_variable_length_sequences_run_through_one_model():
    inputs = keras.Input(shape=(None,), dtype="int32")
    outputs = layers.Dense(1, activation="sigmoid")(layers.LSTM(3)(layers.Embedding(20, 4)(inputs)))
    model = keras.Model(inputs, outputs)
    assert model.predict(np.ones((2, 5), np.int32)).shape == (2, 1)
    assert model.predict(np.ones((3, 9), np.int32)).shape == (3, 1)


def test_two_inputs_two_outputs_and_a_shared_layer():
    keras.utils.set_random_seed(0)
    left, right = keras.Input(shape=(3,), name="left"), keras.Input(shape=(3,), name="right")
    shared = layers.Dense(4, activation="relu")
    joined = layers.Concatenate()([shared(left), shared(right)])
    score = layers.Dense(1, name="score")(joined)
    kind = layers.Dense(2, activation="softmax", name="kind")(joined)
    model = keras.Model([left, right], [score, kind])
    assert len(list(model.parameters())) == 6  # the shared Dense counted once
    model.compile("adam", loss=["mse", "sparse_categorical_crossentropy"])
    a, b = np.random.rand(64, 3), np.random.rand(64, 3)
    history = model.fit([a, b], [a.sum(1) - b.sum(1), (a.sum(1) > b.sum(1)).astype(int)], epochs=3, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert "score_loss" in history.history and "kind_loss" in history.history  # one per output, as Keras
    score_values, kinds = model.predict([a, b])
    assert score_values.shape == (64, 1) and kinds.shape == (64, 2)


def test_an_output_that_does_not_come_from_the_inputs_is_named():
    stray = keras.Input(shape=(2,), name="stray")
    with pytest.raises(ValueError, match="'stray'"):
        keras.Model(keras.Input(shape=(2,)), layers.Dense(1)(stray))


def test_bidirectional_is_a_forward_and_a_backward_copy():
    keras.utils.set_random_seed(1)
    x = tm.tensor(np.random.rand(2, 5, 3).astype(np.float32))
    both = layers.Bidirectional(layers.GRU(4, return_sequences=True), merge_mode=None)
    ahead, behind = both(x)
    np.testing.assert_allclose(ahead.array, both.forward_layer(x).array)
    assert both.backward_layer.go_backwards
    # the backward layer read the sequence from its end: its first output step saw only the last input
    alone = both.backward_layer(x[:, 4:])
    np.testing.assert_allclose(behind[:, 4].array, alone[:, 0].array, rtol=1e-5)


def test_repeat_vector_and_time_distributed():
    x = tm.tensor([[1.0, 2.0]])
    assert layers.RepeatVector(3)(x).tolist() == [[[1.0, 2.0]] * 3]
    dense = layers.Dense(2)
    steps = tm.tensor(np.random.rand(4, 3, 5).astype(np.float32))
    spread = layers.TimeDistributed(dense)(steps)
    np.testing.assert_allclose(spread[:, 1].array, dense(steps[:, 1]).array, rtol=1e-6)


def test_conv1d_causal_sees_only_the_past():
    layer = layers.Conv1D(2, 3, padding="causal")
    x = np.random.rand(1, 6, 2).astype(np.float32)
    changed = x.copy()
    changed[0, 4:] += 1.0
    before, after = layer(tm.tensor(x)), layer(tm.tensor(changed))
    assert before.shape == (1, 6, 2)
    np.testing.assert_allclose(before[:, :4].array, after[:, :4].array)
    assert layers.Conv1D(2, 3, padding="same", strides=2)(tm.tensor(x)).shape == (1, 3, 2)


def test_small_layers():
    images = tm.tensor(np.arange(32, dtype=np.float32).reshape(2, 2, 2, 4))
    assert layers.GlobalAveragePooling2D()(images).shape == (2, 4)
    assert layers.AveragePooling2D()(images).tolist()[0][0][0] == [6.0, 7.0, 8.0, 9.0]
    assert layers.Rescaling(1 / 255)(tm.tensor([[255.0]])).tolist() == [[1.0]]
    assert layers.Reshape((4, -1))(images).shape == (2, 4, 4)
    assert layers.Activation("relu")(tm.tensor([[-1.0, 2.0]])).tolist() == [[0.0, 2.0]]
    assert layers.Add()([tm.ones(1, 2), tm.ones(1, 2)]).tolist() == [[2.0, 2.0]]


def test_utils_pinned():
    assert keras.utils.to_categorical([0, 2]).tolist() == [[1, 0, 0], [0, 0, 1]]
    sequences = [[1], [2, 3], [4, 5, 6]]
    pad = keras.preprocessing.sequence.pad_sequences
    assert pad(sequences).tolist() == [[0, 0, 1], [0, 2, 3], [4, 5, 6]]  # Keras' documented example
    assert pad(sequences, padding="post").tolist() == [[1, 0, 0], [2, 3, 0], [4, 5, 6]]
    assert pad(sequences, maxlen=2).tolist() == [[0, 1], [2, 3], [5, 6]]
    assert pad(sequences, maxlen=2, truncating="post").tolist() == [[0, 1], [2, 3], [4, 5]]


def test_losses_from_logits_equal_the_probability_forms():
    logits = tm.tensor([[2.0, -1.0, 0.5], [0.1, 0.2, 3.0]])
    labels = tm.tensor([0, 2])
    from_logits = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(labels, logits).item()
    from_probabilities = keras.losses.SparseCategoricalCrossentropy()(labels, logits.softmax(-1)).item()
    assert from_logits == pytest.approx(from_probabilities, rel=1e-5)
    one_hot = tm.tensor(keras.utils.to_categorical([0, 2], 3))
    assert keras.losses.CategoricalCrossentropy(from_logits=True)(one_hot, logits).item() == pytest.approx(from_logits)
    binary = keras.losses.BinaryCrossentropy(from_logits=True)(tm.tensor([1.0, 0.0]), tm.tensor([[2.0], [-1.0]]))
    assert binary.item() == pytest.approx(float(np.mean(np.log1p(np.exp([-2.0, -1.0])))), rel=1e-5)


def test_one_hot_labels_with_a_sparse_loss_and_the_reverse_are_named():
    probabilities = tm.tensor([[0.7, 0.3], [0.2, 0.8]])
    with pytest.raises(ValueError, match="look one-hot.*use categorical_crossentropy"):
        keras.losses.sparse_categorical_crossentropy(tm.tensor([[1.0, 0.0], [0.0, 1.0]]), probabilities)
    with pytest.raises(ValueError, match="takes one-hot labels; for class indices use sparse"):
        keras.losses.categorical_crossentropy(tm.tensor([0, 1]), probabilities)


def test_boolean_and_integer_inputs_are_cast_to_the_models_float_input():
    model = keras.Sequential([keras.Input(shape=(3,)), layers.Dense(1)])
    floats = model.predict(np.array([[1.0, 0.0, 1.0]], np.float32))
    np.testing.assert_allclose(model.predict(np.array([[True, False, True]])), floats)
    np.testing.assert_allclose(model.predict(np.array([[1, 0, 1]])), floats)
    model.compile("sgd", "mse")
    with pytest.raises(ValueError, match="batch_size must be a positive integer, got 0"):
        model.fit(np.ones((4, 3)), np.ones(4), batch_size=0, verbose=0)


def test_metric_objects_in_compile_and_on_their_own():
    model = keras.Sequential([keras.Input(shape=(2,)), layers.Dense(3, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=[keras.metrics.SparseCategoricalAccuracy()])
    history = model.fit(np.random.rand(8, 2), np.array([0, 1, 2, 0, 1, 2, 0, 1]), epochs=1, verbose=0)
    assert "sparse_categorical_accuracy" in history.history
    metric = keras.metrics.BinaryAccuracy(threshold=0.7)
    metric.update_state(np.array([1, 0]), np.array([[0.8], [0.6]]))
    metric.update_state(np.array([1, 1]), np.array([[0.65], [0.9]]))
    assert metric.result() == pytest.approx(0.75)  # 1, 1, 0, 1 right
    metric.reset_state()
    assert metric.result() == 0.0


def test_a_functional_model_saves_to_a_keras_file_and_says_so_for_other_paths(tmp_path):
    inputs = keras.Input(shape=(2,))
    model = keras.Model(inputs, layers.Dense(1)(inputs))
    with pytest.raises(ValueError, match="a path ending in .keras"):
        model.save(tmp_path / "model")
    model.save(tmp_path / "model.keras")  # keras/test_keras_file.py: what comes back
    model.save_weights(tmp_path / "w.safetensors")
