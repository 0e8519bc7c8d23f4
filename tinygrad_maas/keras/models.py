"""keras.Sequential: a stack of Keras layers with compile / fit / evaluate / predict / summary / save."""

import json
import math
import os
import zipfile

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
from . import functional, saving, training
from .callbacks import History
from .layers import LAYER_TYPES, InputLayer, Layer
from .parallel import data_parallel


class Model(nn.Module):
    """keras.Model: the functional form Model(inputs, outputs) (functional.py), or a subclass that defines
    call(inputs); and the training loop every Keras model shares (compile / fit / evaluate / predict /
    train_on_batch / ...). Data go in as one array per input (a list when there are several) and labels as
    one array per output; each output has its loss (one loss given is used for every output), and the
    loss minimised is their sum."""

    def __init__(self, inputs=None, outputs=None, name=None, **kwargs):
        super().__init__()
        self.name = name or type(self).__name__.lower()
        self.compiled = False
        self.stop_training = False
        self.input_shape = None
        self._graph = None
        if inputs is not None or outputs is not None:
            self._set_graph(inputs, outputs)

    # ------------------------------------------------------------------ structure
    def _set_graph(self, inputs, outputs):
        self._multiple_inputs = isinstance(inputs, (list, tuple))
        self._multiple_outputs = isinstance(outputs, (list, tuple))
        inputs = list(inputs) if self._multiple_inputs else [inputs]
        outputs = list(outputs) if self._multiple_outputs else [outputs]
        if not all(isinstance(x, functional.KerasTensor) for x in inputs + outputs):
            raise TypeError("keras.Model(inputs, outputs): both must be keras.Input tensors and layer outputs")
        order = functional.graph_order(inputs, outputs)
        self._layers = nn.ModuleList()
        seen = set()
        for tensor in order:
            layer = tensor.node[0]
            if id(layer) not in seen:
                seen.add(id(layer))
                self._layers.append(layer)
        self._graph = (inputs, outputs, order)
        self.input_shape = tuple(inputs[0].shape[1:])
        self._input_dtypes = [functional.numpy_dtype(x.dtype) for x in inputs]
        self.output_names = [t.name for t in outputs]

    @property
    def layers(self):
        return list(self._layers) if "_layers" in self._modules else list(self.children())

    @property
    def losses(self):
        """The penalties of every layer's weight regularizers (tensors), which training adds to the loss."""
        return [
            regularizer(getattr(layer, name))
            for layer in self.modules()
            if isinstance(layer, Layer)
            for name, regularizer in layer.penalties
        ]

    def call(self, inputs):
        raise NotImplementedError(f"{type(self).__name__}: a subclassed keras.Model defines call(inputs)")

    def forward(self, inputs, training=None):
        if self._graph is None:
            return self.call(inputs)
        graph_inputs, graph_outputs, order = self._graph
        values = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        if isinstance(inputs, dict):
            values = [inputs[x.name] for x in graph_inputs]
        if len(values) != len(graph_inputs):
            raise ValueError(f"{self.name}: expected {len(graph_inputs)} inputs, got {len(values)}")
        values = [_as_tensor(v, dtype) for v, dtype in zip(values, self._input_dtypes)]
        for value, symbolic in zip(values, graph_inputs):
            expected = symbolic.shape[1:]
            if len(value.shape) != len(symbolic.shape) or any(
                n is not None and n != m for n, m in zip(expected, value.shape[1:])
            ):
                raise ValueError(
                    f"{self.name}: input {symbolic.name!r} expects shape {symbolic.shape}, got {value.shape}"
                )
        computed = functional.run_graph(graph_inputs, order, values)
        results = [computed[id(x)] for x in graph_outputs]
        return results if self._multiple_outputs else results[0]

    def _input_dtype_list(self):
        return getattr(self, "_input_dtypes", [np.float32])

    # ------------------------------------------------------------------ training
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None):
        if loss is None:
            raise ValueError("compile(): give a loss, e.g. loss='sparse_categorical_crossentropy'")
        self._compile_arguments = {
            "optimizer": optimizer,
            "loss": loss,
            "metrics": metrics,
            "loss_weights": loss_weights,
        }
        self.loss_name = loss if isinstance(loss, str) else getattr(loss, "name", getattr(loss, "__name__", "loss"))
        losses = loss if isinstance(loss, (list, tuple)) else [loss]
        self.loss_fns = [training.loss_function(each) for each in losses]
        self.loss_fn = self.loss_fns[0]
        self.loss_weights = loss_weights
        self.metric_fns = training.metric_functions(metrics, losses[0])
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
            self._build_for_training()
            self.optimizer = self._optimizer_factory(list(self.parameters()))
        return self.optimizer

    def _build_for_training(self):
        """Subclasses with lazily built layers create their weights here."""

    def _inputs(self, x):
        """x as a list of arrays, one per input, cast as Keras casts them (to the Input's dtype)."""
        arrays = list(x) if isinstance(x, (list, tuple)) and self._input_count() > 1 else [x]
        if len(arrays) != self._input_count():
            raise ValueError(f"{self.name}: expected {self._input_count()} input arrays, got {len(arrays)}")
        return [_array(a, "x", dtype) for a, dtype in zip(arrays, self._input_dtype_list())]

    def _input_count(self):
        return len(self._graph[0]) if self._graph is not None else 1

    def _targets(self, y):
        outputs = len(self._graph[1]) if self._graph is not None else 1
        arrays = list(y) if isinstance(y, (list, tuple)) and outputs > 1 else [y]
        if len(arrays) != outputs:
            raise ValueError(f"{self.name}: expected {outputs} label arrays (one per output), got {len(arrays)}")
        return [_array(a, "y") for a in arrays]

    @staticmethod
    def _loader(arrays, batch_size, shuffle):
        """The batches of an epoch (data.DataLoader: a fresh order every epoch when shuffling)."""
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        return DataLoader(TensorDataset(*(from_numpy(a) for a in arrays)), batch_size=batch_size, shuffle=shuffle)

    def _step_values(self, xs, ys, weights=None):
        """(loss tensor, logs) of one batch: every output's loss (weighted per sample when weights are
        given) times its loss weight, summed; each output's loss and metrics when there are several."""
        output = self.forward(xs if len(xs) > 1 else xs[0])
        outputs = output if isinstance(output, (list, tuple)) else [output]
        fns = self.loss_fns if len(self.loss_fns) == len(outputs) else self.loss_fns[:1] * len(outputs)
        loss_weights = self.loss_weights or [1.0] * len(outputs)
        losses = [training.reduce_loss(fn(y, out), weights) for fn, y, out in zip(fns, ys, outputs)]
        total = losses[0] * loss_weights[0]
        for weight, value in zip(loss_weights[1:], losses[1:]):
            total = total + value * weight
        for penalty in self.losses:  # the layers' weight regularizers, as Keras adds them
            total = total + penalty
        logs = {}
        for position, (y, out) in enumerate(zip(ys, outputs)):
            prefix = f"{self.output_names[position]}_" if len(outputs) > 1 else ""
            if prefix:
                logs[prefix + "loss"] = losses[position].item()
            logs.update({prefix + name: value for name, value in self._metrics(y.array, out.array).items()})
        return total, logs

    def _batches(self, xs, ys, weights, batch_size, shuffle):
        """(inputs, labels, weights or None) for each batch of an epoch."""
        arrays = xs + ys + ([weights] if weights is not None else [])
        for batch in self._loader(arrays, batch_size, shuffle):
            batch = list(batch)
            yield batch[: len(xs)], batch[len(xs) : len(xs) + len(ys)], (batch[-1] if weights is not None else None)

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
        class_weight=None,
        sample_weight=None,
        initial_epoch=0,
        steps_per_epoch=None,
    ):
        """Train; returns a History. validation_split takes the last fraction of x, y (before shuffling),
        as Keras does. class_weight / sample_weight weight each sample's loss; epochs counts from
        initial_epoch (a resumed run); steps_per_epoch ends an epoch after that many batches."""
        xs, ys = self._inputs(x), self._targets(y)
        if any(len(a) != len(xs[0]) for a in xs + ys):
            raise ValueError(f"fit(): x and y must have the same number of samples, got {[len(a) for a in xs + ys]}")
        weights = training.sample_weights(ys[0], class_weight, sample_weight, len(xs[0]))
        if self.input_shape is None:
            self.input_shape = tuple(xs[0].shape[1:])
        self._ensure_optimizer()
        if validation_data is None and validation_split:
            if not 0 < validation_split < 1:
                raise ValueError(f"fit(): validation_split must be in (0, 1), got {validation_split}")
            split = len(xs[0]) - int(len(xs[0]) * validation_split)
            held_x, held_y = [a[split:] for a in xs], [a[split:] for a in ys]
            validation_data = (held_x if len(held_x) > 1 else held_x[0], held_y if len(held_y) > 1 else held_y[0])
            xs, ys = [a[:split] for a in xs], [a[:split] for a in ys]
            weights = None if weights is None else weights[:split]
        parallel = data_parallel(self)  # under mpiexec: this rank's shard of the data (keras/parallel.py)
        if parallel is not None:
            if len(xs[0]) < parallel.world:
                raise ValueError(f"fit(): {len(xs[0])} samples cannot be shared by {parallel.world} ranks")
            xs_ys, weights = parallel.shard(xs + ys, weights)
            xs, ys = xs_ys[: len(xs)], xs_ys[len(xs) :]
            batch_size = parallel.batch_size(batch_size) if isinstance(batch_size, int) else batch_size
            verbose = verbose if parallel.rank == 0 else 0
        history = History()
        callbacks = [history] + list(callbacks or [])
        for callback in callbacks:
            callback.set_model(self)
            callback.on_train_begin({})
        self.stop_training = False
        show = verbose not in (0, False)
        for epoch in range(initial_epoch, epochs):
            for callback in callbacks:
                callback.on_epoch_begin(epoch, {})
            self.train()
            count = -(-len(xs[0]) // batch_size) if isinstance(batch_size, int) and batch_size > 0 else 0
            steps = min(count, steps_per_epoch) if steps_per_epoch else count
            bar = ProgressBar(steps, prefix=f"Epoch {epoch + 1}/{epochs} ") if show else None
            totals, seen = {}, 0
            for number, (bx, by, bw) in enumerate(self._batches(xs, ys, weights, batch_size, shuffle), 1):
                for callback in callbacks:
                    callback.on_train_batch_begin(number - 1, {})
                batch_logs = self.train_on_batch_tensors(bx, by, bw, epoch, number)
                size = len(bx[0])
                seen += size
                for name, metric in batch_logs.items():
                    totals[name] = totals.get(name, 0.0) + metric * size
                running = {k: v / seen for k, v in totals.items()}
                for callback in callbacks:
                    callback.on_train_batch_end(number - 1, dict(running))
                if bar:
                    bar.update(number, **running)
                if number == steps or self.stop_training:
                    break
            logs = {name: total / seen for name, total in totals.items()}
            if parallel is not None:
                logs = parallel.mean(logs)
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
            callback.on_train_end({})
        return history

    def train_on_batch_tensors(self, bx, by, bw=None, epoch=0, number=1):
        """One optimizer step on a batch of tensors; the batch's loss and metrics."""
        self.optimizer.zero_grad()
        loss, metrics = self._step_values(bx, by, bw)
        value = loss.item()
        if not np.isfinite(value):
            raise FloatingPointError(
                f"fit(): the loss became {value} at epoch {epoch + 1}, batch {number}; "
                "training stopped (lower the learning rate or check the data)"
            )
        loss.backward()
        self.optimizer.step()
        return {"loss": value, **metrics}

    def train_on_batch(self, x, y, sample_weight=None, class_weight=None, return_dict=False):
        """One gradient step on this batch; its loss (and metrics: a list, or a dict with return_dict)."""
        xs, ys = self._inputs(x), self._targets(y)
        self._ensure_optimizer()
        weights = training.sample_weights(ys[0], class_weight, sample_weight, len(xs[0]))
        self.train()
        logs = self.train_on_batch_tensors(
            [Tensor(a) for a in xs], [Tensor(a) for a in ys], None if weights is None else Tensor(weights)
        )
        return _results(logs, return_dict)

    def test_on_batch(self, x, y, sample_weight=None, return_dict=False):
        """The loss (and metrics) of this batch in eval mode, without a step."""
        if not self.compiled:
            raise RuntimeError("the model must be compiled before test_on_batch(): call model.compile(...)")
        xs, ys = self._inputs(x), self._targets(y)
        weights = training.sample_weights(ys[0], None, sample_weight, len(xs[0]))
        was_training = self.training
        with no_grad():
            self.eval()
            loss, metrics = self._step_values(
                [Tensor(a) for a in xs], [Tensor(a) for a in ys], None if weights is None else Tensor(weights)
            )
        self.train(was_training)
        return _results({"loss": loss.item(), **metrics}, return_dict)

    def predict_on_batch(self, x):
        return self.predict(x, batch_size=max(len(self._inputs(x)[0]), 1))

    def get_weights(self):
        """Every weight as a NumPy array (copies), layer by layer in Keras' order (a layer's parameters,
        then its non-trainable state such as BatchNormalization's moving statistics)."""
        self._build_for_training()
        return [value.array.copy() for value in self.state_dict().values()]

    def set_weights(self, weights):
        """Load arrays in get_weights() order; the count and every shape must match."""
        self._build_for_training()
        targets = list(self.state_dict(keep_vars=True).items())
        if len(weights) != len(targets):
            raise ValueError(f"set_weights(): the model has {len(targets)} weights, got {len(weights)}")
        for (name, target), value in zip(targets, weights):
            value = np.asarray(value)
            if value.shape != target.shape:
                raise ValueError(f"set_weights(): {name} has shape {target.shape}, got an array of shape {value.shape}")
        with no_grad():
            for (_, target), value in zip(targets, weights):
                target.copy_(np.asarray(value))

    def save_weights(self, filepath):
        """Every weight to `filepath` as a safetensors file (whatever its name: Keras' .weights.h5 is HDF5,
        which is not read or written here)."""
        from ..serialization import save as save_file

        self._build_for_training()
        save_file(self.state_dict(), filepath)

    def load_weights(self, filepath):
        self._build_for_training()
        self.load_state_dict(load(filepath))

    def _metrics(self, y_true, y_pred):
        return {name: function(y_true, y_pred) for name, function in self.metric_fns}

    def evaluate(self, x, y, batch_size=32, verbose="auto", return_dict=False, sample_weight=None):
        """The loss and metrics over (x, y), in eval mode: a float when there are no metrics, else a list
        [loss, metric, ...] (or a dict with return_dict=True)."""
        if not self.compiled:
            raise RuntimeError("the model must be compiled before evaluate(): call model.compile(...)")
        xs, ys = self._inputs(x), self._targets(y)
        weights = training.sample_weights(ys[0], None, sample_weight, len(xs[0]))
        totals = {}
        was_training = self.training
        with no_grad():
            self.eval()
            for bx, by, bw in self._batches(xs, ys, weights, batch_size, False):
                loss, metrics = self._step_values(bx, by, bw)
                count = len(bx[0])
                for name, value in {"loss": loss.item(), **metrics}.items():
                    totals[name] = totals.get(name, 0.0) + value * count
        self.train(was_training)  # leave the mode as the caller had it
        results = {name: total / len(xs[0]) for name, total in totals.items()}
        if verbose not in (0, False):
            print(" - ".join(f"{name}: {value:.4f}" for name, value in results.items()))
        if return_dict:
            return results
        return results["loss"] if len(results) == 1 else list(results.values())

    def predict(self, x, batch_size=32, verbose=0):
        """The outputs for x in batches, in eval mode: an array (a list of arrays for several outputs)."""
        xs = self._inputs(x)
        was_training = self.training
        parts = []
        with no_grad():
            self.eval()
            for start in range(0, len(xs[0]), batch_size):
                chunk = [Tensor(a[start : start + batch_size]) for a in xs]
                output = self.forward(chunk if len(chunk) > 1 else chunk[0])
                parts.append([o.array for o in output] if isinstance(output, (list, tuple)) else [output.array])
        self.train(was_training)
        results = [np.concatenate(column) for column in zip(*parts)]
        return results if len(results) > 1 else results[0]

    def export(self, filepath, format="onnx", verbose=None, input_signature=None, **kwargs):
        """Write the model for serving elsewhere, as Keras 3's export(format="onnx"): an ONNX file with a
        dynamic batch axis (and dynamic sequence lengths where the Input leaves them None), traced by
        tm.onnx.export. Keras' other formats (TensorFlow SavedModel, OpenVINO) are not written here."""
        from .. import onnx

        if format != "onnx":
            raise ValueError(f"{self.name}.export(): only format='onnx' is supported here, got {format!r}")
        if input_signature is not None or kwargs:
            raise ValueError(f"{self.name}.export(): input_signature and extra options are not supported")
        specs = self._input_specs()
        rng = np.random.default_rng(0)
        examples = [
            Tensor(
                (np.arange(math.prod(shape)) % 2).reshape(shape).astype(dtype)
                if np.dtype(dtype).kind in "iu"
                else rng.standard_normal(shape).astype(dtype)
            )
            for _, shape, dtype, _ in specs
        ]
        names = [name for name, _, _, _ in specs]
        dynamic = {name: {axis: f"{name}_{axis}" for axis in axes} for name, _, _, axes in specs}
        outputs = self.output_names if self._graph is not None and self._multiple_outputs else ["output"]
        outputs = _unique(outputs)
        dynamic.update({name: {0: f"{name}_0"} for name in outputs})
        onnx.export(self, tuple(examples), filepath, input_names=names, output_names=outputs, dynamic_axes=dynamic)
        if verbose or verbose is None:
            print(f"Saved artifact at '{filepath}'.")

    def _input_specs(self):
        """[(name, example shape, dtype, dynamic axes)] of the model's inputs (None dims become 3)."""
        if self._graph is not None:
            symbols = self._graph[0]
            shapes = [x.shape for x in symbols]
            names = _unique([x.name for x in symbols])
        else:
            self._build_for_training()
            if self.input_shape is None:
                raise ValueError(f"{self.name}.export(): the model does not know its input shape yet; build it first")
            shapes, names = [(None,) + tuple(self.input_shape)], ["input"]
        return [
            (
                name,
                (2,) + tuple(3 if n is None else n for n in shape[1:]),
                dtype,
                [0] + [axis for axis, n in enumerate(shape) if axis and n is None],
            )
            for name, shape, dtype in zip(names, shapes, self._input_dtype_list())
        ]

    def serving_metadata(self):
        """The signature a server needs (servers take models of one input): each input's datatype and shape,
        -1 for the batch and for any size the Input leaves open."""
        if self._graph is None:
            return {}
        inputs = self._graph[0]
        return _signature(
            [(x.name, list(x.shape), "INT64" if np.dtype(x.dtype).kind in "iu" else "FP32") for x in inputs]
        )

    def save(self, filepath):
        """A functional model to a .keras file (one zip of JSON and safetensors, keras/saving.py), with its
        compile state. A subclassed Model is code, not data: save its weights (save_weights)."""
        if self._graph is None:
            raise NotImplementedError(
                f"{self.name}: a subclassed keras.Model is defined by its code, which is never saved; save its "
                "weights with model.save_weights(path), rebuild the model in code and load_weights(path)"
            )
        if not str(filepath).endswith(".keras"):
            raise ValueError(f"{self.name}.save(): give a path ending in .keras (one zip file), got {filepath!r}")
        saving.save_model(self, filepath)

    def count_params(self):
        """Every weight, trainable or not (BatchNormalization's moving statistics count, as in Keras)."""
        return sum(p.numel() for p in self.parameters()) + sum(b.numel() for b in self.buffers())

    def summary(self, print_fn=print):
        """A table of layers, output shapes and parameter counts, as Keras prints it."""
        self._build_for_training()
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


class Sequential(Model):
    def __init__(self, layers=None, name="sequential"):
        super().__init__(name=name)
        self.input_shape = None  # of one sample; known from Input(), input_shape= or the first call
        self._layers = nn.ModuleList()
        for layer in layers or []:
            self.add(layer)

    # ------------------------------------------------------------------ structure
    @property
    def layers(self):
        return list(self._layers)

    def add(self, layer):
        if isinstance(layer, (InputLayer, functional.KerasTensor)):
            self.input_shape = tuple(layer.shape[1:]) if isinstance(layer, functional.KerasTensor) else layer.shape
            return
        if not isinstance(layer, Layer):
            raise TypeError(f"Sequential.add(): expected a keras layer, got {type(layer).__name__}")
        if not len(self._layers) and layer.input_shape_argument is not None:
            self.input_shape = layer.input_shape_argument
        self._layers.append(layer)
        if self.input_shape is not None:
            self.build()

    def _input_dtype_list(self):
        return [np.int64 if self._layers and type(self._layers[0]).__name__ == "Embedding" else np.float32]

    def build(self, input_shape=None):
        """Create every layer's weights by running one sample of zeros through (no training effects)."""
        if input_shape is not None:
            self.input_shape = tuple(input_shape)
        if self.input_shape is None:
            raise ValueError(
                "the model does not know its input shape yet: start with keras.Input(shape=...), "
                "give input_shape= to the first layer, or call it on data"
            )
        sample = np.zeros((1,) + tuple(1 if n is None else n for n in self.input_shape), self._input_dtype_list()[0])
        training = self.training
        self.eval()
        with no_grad():
            self._forward(Tensor(sample))
        self.train(training)

    def _build_for_training(self):
        if self.input_shape is not None and not all(layer.built for layer in self._layers):
            self.build()

    def _forward(self, x):
        for layer in self._layers:
            x = layer(x)
        return x

    def forward(self, x, training=None):
        if not isinstance(x, Tensor):
            x = Tensor(np.asarray(x))
        if self.input_shape is None:
            self.input_shape = tuple(x.shape[1:])
        elif len(x.shape) != len(self.input_shape) + 1 or any(
            n is not None and n != m for n, m in zip(self.input_shape, x.shape[1:])
        ):
            raise ValueError(f"{self.name}: expected input of shape {(None,) + tuple(self.input_shape)}, got {x.shape}")
        return self._forward(x)

    # ------------------------------------------------------------------ inspection and saving
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
        """To "m.keras": Keras 3's one zip file (keras/saving.py), compile state included. To any other path:
        the saved-model directory every model here uses (nn/architecture.py), architecture.json (layer types
        and arguments: no code) and weights.safetensors with a signature. `tinygrad-maas predict`, `export`
        and `serve` take either."""
        if str(filepath).endswith(".keras"):
            saving.save_model(self, filepath)
            return
        save_model(self, filepath, self.serving_metadata())

    def serving_metadata(self):
        """The signature a server needs: the input's datatype and shape (the batch first, as -1)."""
        if self.input_shape is None:
            return {}
        integer_input = type(self._layers[0]).__name__ == "Embedding"
        return _signature([("input", [None] + list(self.input_shape), "INT64" if integer_input else "FP32")])


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


def load_model(filepath, compile=True):
    """A model saved by save(): a .keras zip (compiled as it was saved, keras/saving.py), or a saved-model
    directory of a Sequential (nn/architecture.py; a directory with the config.json of earlier versions is
    still read)."""
    if str(filepath).endswith(".keras") or (os.path.isfile(filepath) and zipfile.is_zipfile(filepath)):
        return saving.load_model(filepath, compile=compile)
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


def _array(values, name, dtype=None):
    """An array for x or y: float64 becomes float32; inputs take their Input's dtype (a float model given
    integers or booleans computes on their float values, an integer Input keeps integers), as Keras."""
    array = values.array if isinstance(values, Tensor) else np.asarray(values)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be numeric, got dtype {array.dtype}")
    if dtype is not None and array.dtype != dtype:
        if np.dtype(dtype).kind in "iu" and array.dtype.kind == "f" and not np.all(array == np.round(array)):
            raise TypeError(f"{name}: this model takes integer inputs (token ids), got fractional values")
        return array.astype(dtype)
    return array.astype(np.float32) if array.dtype == np.float64 else array


def _signature(inputs):
    specs = [{"name": n, "datatype": d, "shape": [-1 if k is None else k for k in shape]} for n, shape, d in inputs]
    return {"signature": {"inputs": specs, "outputs": None}}


def _unique(names):
    """Names made distinct (Keras gives every Input the default name "input_layer")."""
    if len(set(names)) == len(names) and all(names):
        return list(names)
    return [f"{name or 'tensor'}_{i}" for i, name in enumerate(names)]


def _results(logs, return_dict):
    if return_dict:
        return logs
    return logs["loss"] if len(logs) == 1 else list(logs.values())


def _as_tensor(value, dtype):
    return value if isinstance(value, Tensor) else Tensor(_array(value, "x", dtype))
