"""What compile() accepts as strings: optimizers, losses and metrics with Keras' names and defaults.

Loss functions return one value per sample, as Keras' do (keras.losses.binary_crossentropy(y, p) has shape
(N,)): the mean over the last axis of elementwise losses, or the class axis' sum for cross-entropies. The
training loop reduces them (reduce_loss): weighted by sample_weight if given, summed, and divided by the
batch size (Keras' "sum_over_batch_size"). A custom loss may return per-sample values or a scalar.
"""

import numpy as np

from .. import optim
from ..tensor import Tensor

_EPSILON = 1e-7  # Keras clips probabilities to [eps, 1 - eps] before taking logs


def optimizer_factory(optimizer):
    """A function params -> optimizer, from a Keras name or an optimizer class/instance factory."""
    if callable(optimizer) and not isinstance(optimizer, str):
        return optimizer
    factories = {
        "adam": lambda params: optim.Adam(params, lr=1e-3, eps=1e-7),
        "sgd": lambda params: optim.SGD(params, lr=1e-2),
        "rmsprop": lambda params: optim.RMSprop(params, lr=1e-3, alpha=0.9, eps=1e-7),
        "adagrad": lambda params: optim.Adagrad(params, lr=1e-3, initial_accumulator_value=0.1, eps=1e-7),
        "adamw": lambda params: optim.AdamW(params, lr=1e-3, eps=1e-7, weight_decay=4e-3),
    }
    if optimizer not in factories:
        raise ValueError(
            f"unknown optimizer {optimizer!r}; choose from {sorted(factories)} or pass "
            "keras.optimizers.Adam(learning_rate=...)"
        )
    return factories[optimizer]


def check_sparse_labels(y_true, y_pred, loss):
    """Class indices as an int64 vector, checked: one-hot rows given to a sparse loss are named as such."""
    classes = y_pred.shape[-1]
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == classes and classes > 1:
        raise ValueError(
            f"{loss}: the labels look one-hot (shape {tuple(y_true.shape)} against predictions "
            f"{tuple(y_pred.shape)}); use categorical_crossentropy for one-hot labels, or give class indices"
        )
    values = y_true.array
    if values.dtype.kind not in "iu":
        if not np.all(values == np.round(values)):
            raise ValueError("sparse labels must be integer class indices")
        values = values.astype(np.int64)
    if values.size and (values.min() < 0 or values.max() >= classes):
        bad = int(values.min() if values.min() < 0 else values.max())
        raise ValueError(
            f"label {bad} is out of range for a model with {classes} outputs (labels must be in [0, {classes - 1}])"
        )
    return Tensor(values.reshape(y_pred.shape[:-1]))


def check_one_hot_labels(y_true, y_pred, loss):
    if tuple(y_true.shape) != tuple(y_pred.shape):
        raise ValueError(
            f"{loss}: labels of shape {tuple(y_true.shape)} against predictions {tuple(y_pred.shape)}: this loss "
            "takes one-hot labels; for class indices use sparse_categorical_crossentropy (or "
            "keras.utils.to_categorical to make one-hot rows)"
        )


def sparse_categorical_crossentropy(y_true, y_pred):
    """-log p[label], p the predicted probabilities (the output of a softmax), clipped to [1e-7, 1 - 1e-7]."""
    labels = check_sparse_labels(y_true, y_pred, "sparse_categorical_crossentropy")
    picked = y_pred.clamp(_EPSILON, 1 - _EPSILON).gather(-1, labels.unsqueeze(-1)).squeeze(-1)
    return -picked.log()


def categorical_crossentropy(y_true, y_pred):
    """-sum_c t_c log p_c for one-hot (or soft) targets t."""
    check_one_hot_labels(y_true, y_pred, "categorical_crossentropy")
    return -(y_true * y_pred.clamp(_EPSILON, 1 - _EPSILON).log()).sum(-1)


def same_rank(y_true, y_pred, what):
    """Labels and predictions lined up as Keras lines them up (squeeze_or_expand_to_same_rank): when one has
    one more axis, of size 1, it is dropped, so labels (N,) meet predictions (N, 1) element by element
    instead of broadcasting to an (N, N) matrix. Shapes that still differ are a mistake, named."""
    labels, predictions = y_true, y_pred
    if y_pred.ndim == y_true.ndim + 1 and y_pred.shape[-1] == 1:
        predictions = y_pred.reshape(y_pred.shape[:-1])
    elif y_true.ndim == y_pred.ndim + 1 and y_true.shape[-1] == 1:
        labels = y_true.reshape(y_true.shape[:-1])
    if tuple(labels.shape) != tuple(predictions.shape):
        raise ValueError(
            f"{what}: labels of shape {tuple(y_true.shape)} do not match predictions of shape {tuple(y_pred.shape)}"
        )
    return labels, predictions


def binary_crossentropy(y_true, y_pred):
    y_true, y_pred = same_rank(y_true, y_pred, "binary_crossentropy")
    p = y_pred.clamp(_EPSILON, 1 - _EPSILON)
    return per_sample(-(y_true * p.log() + (1 - y_true) * (1 - p).log()))


def mean_squared_error(y_true, y_pred):
    y_true, y_pred = same_rank(y_true, y_pred, "mean_squared_error")
    return per_sample((y_pred - y_true) ** 2)


def mean_absolute_error(y_true, y_pred):
    y_true, y_pred = same_rank(y_true, y_pred, "mean_absolute_error")
    return per_sample((y_pred - y_true).abs())


def per_sample(elementwise):
    """Keras' reduction of elementwise losses to one value per sample: the mean over the last axis (for
    outputs with more than one value per sample)."""
    return elementwise.mean(-1) if elementwise.ndim >= 2 else elementwise


def reduce_loss(values, sample_weight=None):
    """The loss minimised for a batch: per-sample values (any trailing axes averaged) times their weights,
    summed and divided by the batch size; a scalar from a custom loss is taken as it is."""
    if values.ndim == 0:
        if sample_weight is not None:
            raise ValueError(
                "sample_weight / class_weight need per-sample loss values, but the loss returned one number; "
                "return a value per sample (e.g. the mean over the last axis only)"
            )
        return values
    if values.ndim > 1:
        values = values.mean(dim=tuple(range(1, values.ndim)))
    if sample_weight is not None:
        values = values * sample_weight.reshape(values.shape).to(values.dtype)
    return values.mean()


LOSSES = {
    "sparse_categorical_crossentropy": sparse_categorical_crossentropy,
    "categorical_crossentropy": categorical_crossentropy,
    "binary_crossentropy": binary_crossentropy,
    "mse": mean_squared_error,
    "mean_squared_error": mean_squared_error,
    "mae": mean_absolute_error,
    "mean_absolute_error": mean_absolute_error,
}


def loss_function(loss):
    """The per-sample loss for compile(loss=...): a name, a keras.losses object (its per-sample `call`) or
    a function (y_true, y_pred) -> per-sample values or a scalar."""
    if hasattr(loss, "call") and hasattr(loss, "from_logits"):
        return loss.call
    if callable(loss) and not isinstance(loss, str):
        return loss
    if loss not in LOSSES:
        raise ValueError(
            f"unknown loss {loss!r}; choose from {sorted(LOSSES)} or pass a function (y_true, y_pred) -> tensor"
        )
    return LOSSES[loss]


def _sparse_accuracy(y_true, y_pred):
    return float((y_pred.argmax(axis=-1) == y_true.reshape(-1)).mean())


def _categorical_accuracy(y_true, y_pred):
    return float((y_pred.argmax(axis=-1) == y_true.argmax(axis=-1)).mean())


def _binary_accuracy(y_true, y_pred, threshold=0.5):
    y_true, y_pred = same_rank(y_true, y_pred, "binary_accuracy")
    return float(((y_pred > threshold) == (y_true > 0.5)).mean())


def _mean_absolute_error(y_true, y_pred):
    y_true, y_pred = same_rank(y_true, y_pred, "mae")
    return float(np.abs(y_pred - y_true).mean())


def _mean_squared_error(y_true, y_pred):
    y_true, y_pred = same_rank(y_true, y_pred, "mse")
    return float(((y_pred - y_true) ** 2).mean())


METRICS = {
    "sparse_categorical_accuracy": _sparse_accuracy,
    "categorical_accuracy": _categorical_accuracy,
    "binary_accuracy": _binary_accuracy,
    "mae": _mean_absolute_error,
    "mse": _mean_squared_error,
}


def metric_functions(metrics, loss):
    """(name, function on NumPy arrays) for each metric; "accuracy" picks the variant the loss implies."""
    resolved = []
    for metric in metrics or []:
        if hasattr(metric, "update_state"):  # a keras.metrics object
            resolved.append((metric.name, metric))
            continue
        name = metric
        if metric in ("accuracy", "acc"):
            name = "accuracy"
            variant = {
                "sparse_categorical_crossentropy": "sparse_categorical_accuracy",
                "categorical_crossentropy": "categorical_accuracy",
                "binary_crossentropy": "binary_accuracy",
            }.get(loss if isinstance(loss, str) else getattr(loss, "name", ""))
            if variant is None:
                raise ValueError(
                    "metrics=['accuracy'] needs a classification loss given by name (e.g. "
                    "'sparse_categorical_crossentropy'); name the accuracy metric instead"
                )
            function = METRICS[variant]
        elif metric in METRICS:
            function = METRICS[metric]
        else:
            raise ValueError(f"unknown metric {metric!r}; choose from {sorted(METRICS) + ['accuracy']}")
        resolved.append((name, function))
    return resolved


def sample_weights(y, class_weight, sample_weight, count):
    """One weight per sample from fit's sample_weight (an array) and/or class_weight ({class: weight}, the
    class read from the labels as Keras reads it: an index, the argmax of a one-hot row, or a 0/1 label)."""
    weights = None
    if sample_weight is not None:
        weights = np.asarray(sample_weight, dtype=np.float32).reshape(-1)
        if weights.shape != (count,):
            raise ValueError(f"sample_weight must hold one weight per sample ({count}), got shape {weights.shape}")
    if class_weight:
        labels = np.asarray(y)
        if labels.ndim > 1 and labels.shape[-1] > 1:
            labels = labels.argmax(-1)
        labels = np.round(labels.reshape(count, -1)[:, 0]).astype(np.int64)
        unknown = sorted(set(labels.tolist()) - set(class_weight))
        if unknown:
            raise ValueError(f"class_weight has no weight for class(es) {unknown[:10]}")
        by_class = np.array([class_weight[c] for c in labels], dtype=np.float32)
        weights = by_class if weights is None else weights * by_class
    return weights
