"""Labels of shape (N,) against an output of shape (N, 1): Keras lines them up element by element (it drops
the extra size-1 axis) in every loss and metric. Broadcasting them would compare every label with every
prediction, an (N, N) matrix, and train a binary classifier to chance without an error."""

import math

import numpy as np
import pytest

import tinygrad_maas as tm
from tinygrad_maas import keras
from tinygrad_maas.keras import training


def test_binary_crossentropy_of_flat_labels_against_a_column_of_probabilities():
    labels, probabilities = tm.tensor([1.0, 0.0, 1.0]), tm.tensor([[0.8], [0.3], [0.6]])
    expected = -(math.log(0.8) + math.log(0.7) + math.log(0.6)) / 3
    assert training.binary_crossentropy(labels, probabilities).mean().item() == pytest.approx(expected, rel=1e-6)
    column = labels.reshape(3, 1)
    assert training.binary_crossentropy(column, probabilities).mean().item() == pytest.approx(expected, rel=1e-6)


def test_regression_losses_line_up_the_same_way():
    targets, outputs = tm.tensor([1.0, 2.0]), tm.tensor([[1.5], [1.0]])
    assert training.mean_squared_error(targets, outputs).mean().item() == pytest.approx((0.25 + 1.0) / 2)
    assert training.mean_absolute_error(targets, outputs).mean().item() == pytest.approx((0.5 + 1.0) / 2)


def test_binary_accuracy_compares_each_label_with_its_own_prediction():
    metric = dict(training.metric_functions(["accuracy"], "binary_crossentropy"))["accuracy"]
    assert metric(np.array([1, 0, 1]), np.array([[0.8], [0.3], [0.4]])) == pytest.approx(2 / 3)


def test_shapes_that_do_not_line_up_are_named():
    with pytest.raises(
        ValueError, match=r"binary_crossentropy: labels of shape \(4,\) do not match predictions of shape \(3, 1\)"
    ):
        training.binary_crossentropy(tm.tensor([1.0, 0.0, 1.0, 0.0]), tm.tensor([[0.5], [0.5], [0.5]]))


def test_a_binary_classifier_trained_on_flat_labels_learns():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((200, 2)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.float32)  # shape (200,): the way people pass labels
    tm.manual_seed(0)
    model = keras.Sequential([keras.Input(shape=(2,)), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.05), loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=20, batch_size=32, verbose=0)
    assert history.history["accuracy"][-1] > 0.95
