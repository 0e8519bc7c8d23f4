"""keras.metrics objects: compile(metrics=[keras.metrics.SparseCategoricalAccuracy()]) and standalone use
(update_state / result / reset_state), each the named metric of training.py kept as a running mean
weighted by batch size (what fit logs for the epoch)."""

import numpy as np

from . import training


class Metric:
    function_name = None

    def __init__(self, name=None, **options):
        self.name = name or self.function_name
        self.options = options
        self.reset_state()

    def __call__(self, y_true, y_pred):
        """The metric of one batch (NumPy arrays or tensors): what fit averages over an epoch."""
        return training.METRICS[self.function_name](_values(y_true), _values(y_pred), **self.options)

    def update_state(self, y_true, y_pred):
        values = _values(y_true)
        self.total += self(y_true, y_pred) * len(values)
        self.count += len(values)

    def result(self):
        return self.total / self.count if self.count else 0.0

    def reset_state(self):
        self.total, self.count = 0.0, 0


def _values(x):
    return x.array if hasattr(x, "array") else np.asarray(x)


class BinaryAccuracy(Metric):
    function_name = "binary_accuracy"

    def __init__(self, name=None, threshold=0.5):
        super().__init__(name, threshold=threshold)


class CategoricalAccuracy(Metric):
    function_name = "categorical_accuracy"


class SparseCategoricalAccuracy(Metric):
    function_name = "sparse_categorical_accuracy"


class MeanSquaredError(Metric):
    function_name = "mse"


class MeanAbsoluteError(Metric):
    function_name = "mae"
