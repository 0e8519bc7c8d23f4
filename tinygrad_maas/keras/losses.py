"""keras.losses: loss objects (with from_logits=) and functions, with Keras' label handling.

A loss object is called as loss(y_true, y_pred, sample_weight=None) and returns the batch's loss (a
scalar tensor); the functions return one value per sample, as Keras'. from_logits=True takes the model's
raw outputs and folds the sigmoid or softmax into the loss (numerically stable: binary cross-entropy with
logits, log_softmax), as Keras does.
"""

from ..nn import functional as F
from . import training
from .training import (  # noqa: F401  (keras.losses.binary_crossentropy, ...)
    binary_crossentropy,
    categorical_crossentropy,
    mean_absolute_error,
    mean_squared_error,
    sparse_categorical_crossentropy,
)


class Loss:
    name = "loss"

    def __init__(self, from_logits=False, name=None):
        self.from_logits = from_logits
        if name is not None:
            self.name = name

    def __call__(self, y_true, y_pred, sample_weight=None):
        return training.reduce_loss(self.call(y_true, y_pred), sample_weight)


class BinaryCrossentropy(Loss):
    name = "binary_crossentropy"

    def call(self, y_true, y_pred):
        if not self.from_logits:
            return binary_crossentropy(y_true, y_pred)
        y_true, y_pred = training.same_rank(y_true.to(y_pred.dtype), y_pred, self.name)
        return training.per_sample(F.binary_cross_entropy_with_logits(y_pred, y_true, reduction="none"))


class SparseCategoricalCrossentropy(Loss):
    name = "sparse_categorical_crossentropy"

    def call(self, y_true, y_pred):
        if not self.from_logits:
            return sparse_categorical_crossentropy(y_true, y_pred)
        labels = training.check_sparse_labels(y_true, y_pred, self.name)
        return -y_pred.log_softmax(-1).gather(-1, labels.unsqueeze(-1)).squeeze(-1)


class CategoricalCrossentropy(Loss):
    name = "categorical_crossentropy"

    def call(self, y_true, y_pred):
        if not self.from_logits:
            return categorical_crossentropy(y_true, y_pred)
        training.check_one_hot_labels(y_true, y_pred, self.name)
        return -(y_true.to(y_pred.dtype) * y_pred.log_softmax(-1)).sum(-1)


class MeanSquaredError(Loss):
    name = "mean_squared_error"

    def call(self, y_true, y_pred):
        return mean_squared_error(y_true, y_pred)


class MeanAbsoluteError(Loss):
    name = "mean_absolute_error"

    def call(self, y_true, y_pred):
        return mean_absolute_error(y_true, y_pred)
