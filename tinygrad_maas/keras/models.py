"""keras.Sequential: a stack of Keras layers with compile / fit / evaluate / predict / summary / save."""

import json
import math
import os

import numpy as np

from .. import nn
from ..autograd.grad_mode import no_grad
from ..creation import from_numpy, parameter_budget
from ..data import DataLoader, TensorDataset
from ..nn.architecture import load_model as nn_load_model
from ..nn.architecture import register_architecture, save_model
from ..progress import ProgressBar
from ..serialization import load, read_header
from ..tensor import Tensor
from . import training
from .callbacks import History
from .layers import LAYER_TYPES, InputLayer, Layer


class Sequential(nn.Module):
    def __init__(self, layers=None, name="sequential"):
        super().__init__()
        self.name = name
        self.input_shape = None  # of one sample; known from Input(), input_shape= or the first call
        self.compiled = False
        self.stop_training = False
        self._layers = nn.ModuleList()
        for layer in layers or []:
            self.add(layer)

    # ------------------------------------------------------------------ structure
    @property
    def layers(self):
        return list(self._layers)

    def add(self, layer):
        if isinstance(layer, InputLayer):
            self.input_shape = layer.shape
            return
        if not isinstance(layer, Layer):
            raise TypeError(f"Sequential.add(): expected a keras layer, got {type(layer).__name__}")
        if not len(self._layers) and layer.input_shape_argument is not None:
            self.input_shape = layer.input_shape_argument
        self._layers.append(layer)
        if self.input_shape is not None:
            self.build()

    def build(self, input_shape=None):
        """Create every layer's weights by running one sample of zeros through (no training effects)."""
        if input_shape is not None:
            self.input_shape = tuple(input_shape)
        if self.input_shape is None:
            raise ValueError(
                "the model does not know its input shape yet: start with keras.Input(shape=...), "
                "give input_shape= to the first layer, or call it on data"
            )
        integer_input = type(self._layers[0]).__name__ == "Embedding"
        sample = np.zeros((1,) + tuple(self.input_shape), dtype=np.int64 if integer_input else np.float32)
        training = self.training
        self.eval()
        with no_grad():
            self._forward(Tensor(sample))
        self.train(training)

    def _forward(self, x):
        for layer in self._layers:
            x = layer(x)
        return x

    def forward(self, x):
        if not isinstance(x, Tensor):
            x = Tensor(np.asarray(x))
        if self.input_shape is None:
            self.input_shape = tuple(x.shape[1:])
        elif tuple(x.shape[1:]) != tuple(self.input_shape):
            raise ValueError(f"{self.name}: expected input of shape {(None,) + tuple(self.input_shape)}, got {x.shape}")
        return self._forward(x)

    # ------------------------------------------------------------------ training
    def compile(self, optimizer="rmsprop", loss=None, metrics=None):
        if loss is None:
            raise ValueError("compile(): give a loss, e.g. loss='sparse_categorical_crossentropy'")
        self.loss_name = loss if isinstance(loss, str) else getattr(loss, "__name__", "loss")
        self.loss_fn = training.loss_function(loss)
        self.metric_fns = training.metric_functions(metrics, loss)
        self._optimizer_factory = training.optimizer_factory(optimizer)
        self.optimizer = None  # created on the first fit, when every weight exists
        self.compiled = True

    @property
    def learning_rate(self):
        return self._ensure_optimizer().param_groups[0]["lr"]

    @learning_rate.setter
    def learning_rate(self, value):
        for group in self._ensure_optimizer().param_groups:
            group["lr"] = value

    def _ensure_optimizer(self):
        if not self.compiled:
            raise RuntimeError("the model must be compiled before training: call model.compile(optimizer, loss)")
        if self.optimizer is None:
            if self.input_shape is not None and not all(layer.built for layer in self._layers):
                self.build()
            self.optimizer = self._optimizer_factory(list(self.parameters()))
        return self.optimizer

    @staticmethod
    def _loader(x, y, batch_size, shuffle):
        """The batches of an epoch (data.DataLoader: a fresh order every epoch when shuffling)."""
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        return DataLoader(TensorDataset(from_numpy(x), from_numpy(y)), batch_size=batch_size, shuffle=shuffle)

    def fit(
        self,
        x,
        y,
        batch_size=32,
        epochs=1,
        verbose="auto",
        callbacks=None,
        validation_split=0.0,
        validation_data=None,
        shuffle=True,
    ):
        """Train; returns a History. validation_split takes the last fraction of x, y (before shuffling),
        as Keras does."""
        x, y = _array(x, "x"), _array(y, "y")
        if len(x) != len(y):
            raise ValueError(f"fit(): x has {len(x)} samples but y has {len(y)}")
        if self.input_shape is None:
            self.input_shape = tuple(x.shape[1:])
        self._ensure_optimizer()
        if validation_data is None and validation_split:
            if not 0 < validation_split < 1:
                raise ValueError(f"fit(): validation_split must be in (0, 1), got {validation_split}")
            split = len(x) - int(len(x) * validation_split)
            x, y, validation_data = x[:split], y[:split], (x[split:], y[split:])
        history = History()
        callbacks = [history] + list(callbacks or [])
        for callback in callbacks:
            callback.set_model(self)
            callback.on_train_begin()
        self.stop_training = False
        show = verbose not in (0, False)
        for epoch in range(epochs):
            for callback in callbacks:
                callback.on_epoch_begin(epoch)
            self.train()
            batches = self._loader(x, y, batch_size, shuffle)
            bar = ProgressBar(len(batches), prefix=f"Epoch {epoch + 1}/{epochs} ") if show else None
            totals, seen = {}, 0
            for number, (xb, yb) in enumerate(batches, 1):
                self.optimizer.zero_grad()
                output = self.forward(xb)
                loss = self.loss_fn(yb, output)
                value = loss.item()
                if not np.isfinite(value):
                    raise FloatingPointError(
                        f"fit(): the loss became {value} at epoch {epoch + 1}, batch {number}; "
                        "training stopped (lower the learning rate or check the data)"
                    )
                loss.backward()
                self.optimizer.step()
                seen += len(xb)
                logs = {"loss": value, **self._metrics(yb.array, output.array)}
                for name, metric in logs.items():
                    totals[name] = totals.get(name, 0.0) + metric * len(xb)
                if bar:
                    bar.update(number, **{k: v / seen for k, v in totals.items()})
            logs = {name: total / seen for name, total in totals.items()}
            if validation_data is not None:
                values = self.evaluate(*validation_data, batch_size=batch_size, verbose=0, return_dict=True)
                logs.update({"val_" + name: value for name, value in values.items()})
            for callback in callbacks:
                callback.on_epoch_end(epoch, logs)
            if bar:
                bar.finish(**logs)
            if self.stop_training:
                break
        for callback in callbacks:
            callback.on_train_end()
        return history

    def _metrics(self, y_true, y_pred):
        return {name: function(y_true, y_pred) for name, function in self.metric_fns}

    def evaluate(self, x, y, batch_size=32, verbose="auto", return_dict=False):
        """The loss and metrics over (x, y), in eval mode: a float when there are no metrics, else a list
        [loss, metric, ...] (or a dict with return_dict=True)."""
        if not self.compiled:
            raise RuntimeError("the model must be compiled before evaluate(): call model.compile(...)")
        x, y = _array(x, "x"), _array(y, "y")
        totals = {}
        was_training = self.training
        with no_grad():
            self.eval()
            for xb, yb in self._loader(x, y, batch_size, False):
                output = self.forward(xb)
                values = {"loss": self.loss_fn(yb, output).item(), **self._metrics(yb.array, output.array)}
                for name, value in values.items():
                    totals[name] = totals.get(name, 0.0) + value * len(xb)
        self.train(was_training)  # leave the mode as the caller had it
        results = {name: total / len(x) for name, total in totals.items()}
        if verbose not in (0, False):
            print(" - ".join(f"{name}: {value:.4f}" for name, value in results.items()))
        if return_dict:
            return results
        return results["loss"] if len(results) == 1 else list(results.values())

    def predict(self, x, batch_size=32, verbose=0):
        x = _array(x, "x")
        was_training = self.training
        with no_grad():
            self.eval()
            outputs = [self.forward(Tensor(x[i : i + batch_size])).array for i in range(0, len(x), batch_size)]
        self.train(was_training)
        return np.concatenate(outputs)

    # ------------------------------------------------------------------ inspection and saving
    def count_params(self):
        """Every weight, trainable or not (BatchNormalization's moving statistics count, as in Keras)."""
        return sum(p.numel() for p in self.parameters()) + sum(b.numel() for b in self.buffers())

    def summary(self, print_fn=print):
        """A table of layers, output shapes and parameter counts, as Keras prints it."""
        if self.input_shape is not None and not all(layer.built for layer in self._layers):
            self.build()
        rows = [
            (
                f"{layer.name} ({type(layer).__name__})",
                str(layer.output_shape),
                sum(p.numel() for p in layer.parameters()) + sum(b.numel() for b in layer.buffers()),
            )
            for layer in self._layers
        ]
        trainable = sum(p.numel() for p in self.parameters())
        width = max([len(r[0]) for r in rows] + [20]) + 2
        lines = [
            f'Model: "{self.name}"',
            "-" * (width + 40),
            f"{'Layer (type)':<{width}}{'Output Shape':<26}{'Param #':>12}",
            "=" * (width + 40),
        ]
        lines += [f"{name:<{width}}{shape:<26}{count:>12,}" for name, shape, count in rows]
        lines += [
            "=" * (width + 40),
            f"Total params: {self.count_params():,}",
            f"Trainable params: {trainable:,}",
            f"Non-trainable params: {self.count_params() - trainable:,}",
        ]
        for line in lines:
            print_fn(line)

    def get_config(self):
        return {
            "name": self.name,
            "input_shape": list(self.input_shape) if self.input_shape else None,
            "layers": [{"class_name": type(layer).__name__, "config": layer.get_config()} for layer in self._layers],
        }

    def architecture_config(self):
        """This model in the saved-model format's architecture.json (nn/architecture.py)."""
        return {"type": "keras.Sequential", **self.get_config()}

    def save(self, filepath):
        """The saved-model format every model here uses (nn/architecture.py): a directory holding
        architecture.json (layer types and arguments: no code) and weights.safetensors, with a signature
        so that `tinygrad-maas predict`, `export` and `serve` take it as they take any saved model."""
        metadata = {}
        if self.input_shape is not None:
            integer_input = type(self._layers[0]).__name__ == "Embedding"
            metadata["signature"] = {
                "inputs": [
                    {
                        "name": "input",
                        "datatype": "INT64" if integer_input else "FP32",
                        "shape": [-1] + list(self.input_shape),
                    }
                ],
                "outputs": None,
            }
        save_model(self, filepath, metadata)


def from_config(architecture):
    """The Sequential an architecture_config() describes (layer types from a fixed table), built."""
    layers = []
    for entry in architecture.get("layers") or []:
        kind = entry.get("class_name") if isinstance(entry, dict) else None
        if kind not in LAYER_TYPES:
            raise ValueError(f"load_model(): unknown keras layer type {kind!r}; supported: {sorted(LAYER_TYPES)}")
        layers.append(LAYER_TYPES[kind](**entry.get("config", {})))
    model = Sequential(layers, name=architecture.get("name", "sequential"))
    if architecture.get("input_shape"):
        model.build(architecture["input_shape"])
    return model


register_architecture("keras.Sequential", from_config)


def load_model(filepath):
    """A model saved by Sequential.save (the saved-model format of nn/architecture.py; a directory with the
    config.json of earlier versions is still read)."""
    if os.path.exists(os.path.join(filepath, "architecture.json")) or not os.path.exists(
        os.path.join(filepath, "config.json")
    ):
        model, _ = nn_load_model(filepath)
        return model.train()
    return _load_config_json(filepath)


def _load_config_json(filepath):
    """The directories keras saved before it shared the saved-model format: config.json + weights."""
    path = os.path.join(filepath, "config.json")
    with open(path, "rb") as file:
        try:
            description = json.loads(file.read(1024 * 1024))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ValueError(f"load_model(): {path} is not valid JSON ({error})") from None
    if not isinstance(description, dict) or description.get("format") != "tinygrad_maas.keras/1":
        raise ValueError(f"load_model(): {path} is not a tinygrad_maas keras model")
    weights = read_header(os.path.join(filepath, "weights.safetensors"))
    with parameter_budget(sum(math.prod(shape) for _, shape in weights.values())):
        model = from_config(description["config"])
    model.load_state_dict(load(os.path.join(filepath, "weights.safetensors")))
    return model


def _array(values, name):
    array = values.array if isinstance(values, Tensor) else np.asarray(values)
    if array.dtype == np.float64:
        array = array.astype(np.float32)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be numeric, got dtype {array.dtype}")
    return array
