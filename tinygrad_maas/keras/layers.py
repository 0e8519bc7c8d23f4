"""Keras layers: Keras' names, arguments, weight layouts and initialisers, channels-last images, as an
adapter over nn/: the weights are nn Parameters filled by nn.init, and the computation is nn.functional's
and nn's recurrences (so gradients, kernels and tests are shared with the PyTorch-style layers).

Each layer builds its weights on first use, from the shape of what it receives (Keras' lazy `build`):

    Dense        kernel (in, units), bias (units,)                 y = x @ kernel + bias
    Conv2D       kernel (kh, kw, in, filters), bias (filters,)     on (N, H, W, C): F.conv2d in NCHW
    GRU          kernel (in, 3u), recurrent_kernel (u, 3u), bias (2, 3u)   gates z, r, h (Keras order),
                 reset_after=True: the same equations as PyTorch's GRU, whose ops run it
    LSTM         kernel (in, 4u), recurrent_kernel (u, 4u), bias (4u,)     gates i, f, c, o
    SimpleRNN    kernel (in, u), recurrent_kernel (u, u), bias (u,)
Initialisers as Keras: glorot_uniform kernels, orthogonal recurrent kernels, zero biases (LSTM's forget
bias 1), embeddings uniform in [-0.05, 0.05].
"""

import math
import re

import numpy as np

from .. import nn
from ..autograd.grad_mode import no_grad
from ..creation import empty_for_parameters, zeros
from ..nn import functional as F
from ..nn import init
from ..nn.rnn import gru_sequence, lstm_sequence, rnn_sequence
from ..ops.arguments import spatial
from ..tensor import Tensor, cat
from . import initializers
from .functional import Input, is_symbolic, symbolic_call  # noqa: F401  (keras.layers.Input)

ACTIVATIONS = {
    None: lambda x: x,
    "linear": lambda x: x,
    "relu": F.relu,
    "sigmoid": F.sigmoid,
    "tanh": F.tanh,
    "softmax": lambda x: x.softmax(-1),
    "elu": F.elu,
    "gelu": F.gelu,
    "silu": F.silu,
    "swish": F.silu,
    "softplus": F.softplus,
    "leaky_relu": lambda x: F.leaky_relu(x, 0.2),
}


def _activation(name):
    if callable(name) and not isinstance(name, str):
        return name
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; choose from {sorted(k for k in ACTIVATIONS if k)}")
    return ACTIVATIONS[name]


def glorot_uniform(fan_in, fan_out):
    """Keras' default kernel initialiser, U(-limit, limit) with limit = sqrt(6 / (fan_in + fan_out)); the
    fans are Keras' (a kernel's layout differs from PyTorch's, so nn.init's xavier would count them
    differently for convolutions)."""
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    return lambda parameter: init.uniform_(parameter, -limit, limit)


def orthogonal_blocks(blocks):
    """Keras' recurrent initialiser: each gate's (units, units) block of the kernel orthogonal (nn.init)."""

    def fill(parameter):
        units = parameter.shape[0]
        for k in range(blocks):
            block = Tensor(np.zeros((units, units), np.float32))
            parameter.array[:, k * units : (k + 1) * units] = init.orthogonal_(block).array
        return parameter

    return fill


class Layer(nn.Module):
    """A Keras layer: weights built on the first call from the input's shape (batch dim excluded)."""

    _count = {}

    def __init__(self, input_shape=None, name=None):
        super().__init__()
        # Keras' automatic names: the class name in snake_case, numbered from the second one on
        kind = re.sub(r"([a-z])([A-Z])", r"\1_\2", re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", type(self).__name__)).lower()
        Layer._count[kind] = Layer._count.get(kind, 0) + 1
        self.name = name or (kind if Layer._count[kind] == 1 else f"{kind}_{Layer._count[kind] - 1}")
        self.input_shape_argument = None if input_shape is None else tuple(input_shape)
        self.built = False
        self.output_shape = None
        self.penalties = []  # (weight name, regularizer): added to the training loss (Model.losses)

    def build(self, input_shape):
        self.built = True

    def __call__(self, inputs, training=None, **kwargs):
        """On real tensors (or arrays): build on first use, then compute. On keras.Input's symbolic tensors:
        record the call for a functional Model (functional.py). training=True/False runs in that mode."""
        if is_symbolic(inputs):
            return symbolic_call(self, inputs, self._compute)
        if training is None or bool(training) == self.training:
            return self._compute(inputs)
        was_training = self.training
        self.train(bool(training))
        try:
            return self._compute(inputs)
        finally:
            self.train(was_training)

    def _compute(self, inputs):
        if isinstance(inputs, (list, tuple)):
            inputs = [x if isinstance(x, Tensor) else Tensor(np.asarray(x)) for x in inputs]
            sample_shape = [tuple(x.shape[1:]) for x in inputs]
        else:
            inputs = inputs if isinstance(inputs, Tensor) else Tensor(np.asarray(inputs))
            sample_shape = tuple(inputs.shape[1:])
        if not self.built:
            self.build(sample_shape)
            self.built = True
        outputs = self.forward(inputs)
        if isinstance(outputs, Tensor):
            self.output_shape = (None,) + tuple(outputs.shape[1:])
        return outputs

    def add_weight(self, name, shape, initializer=init.zeros_, regularizer=None):
        """A weight of `shape` as an nn Parameter, filled by an nn.init function; a regularizer's penalty
        on it joins the training loss."""
        parameter = nn.Parameter(empty_for_parameters(tuple(shape), np.float32))
        initializer(parameter)
        self.register_parameter(name, parameter)
        if regularizer is not None:
            self.penalties.append((name, regularizer))
        return parameter

    def _weight_options(self, kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer):
        self.kernel_initializer, self.bias_initializer = kernel_initializer, bias_initializer
        self.kernel_regularizer = initializers.regularizer(kernel_regularizer)
        self.bias_regularizer = initializers.regularizer(bias_regularizer)

    def _add_kernel_and_bias(self, kernel_shape, fan_in, fan_out, units):
        kernel = initializers.filler(self.kernel_initializer, fan_in, fan_out)
        self.kernel = self.add_weight("kernel", kernel_shape, kernel, self.kernel_regularizer)
        bias = initializers.filler(self.bias_initializer, fan_in, fan_out)
        self.bias = self.add_weight("bias", (units,), bias, self.bias_regularizer) if self.use_bias else None

    def _weight_config(self):
        config = {
            "kernel_initializer": initializers.name_of(self.kernel_initializer),
            "bias_initializer": initializers.name_of(self.bias_initializer),
        }
        for name in ("kernel_regularizer", "bias_regularizer"):
            if getattr(self, name) is not None:
                config[name] = getattr(self, name).get_config()
        return config

    def get_config(self):
        """The constructor arguments, for saving the model (JSON)."""
        return {"name": self.name}


class InputLayer:
    """keras.layers.InputLayer(shape=...) at the start of a Sequential (keras.Input does the same job)."""

    def __init__(self, shape=None, dtype="float32", input_shape=None, batch_size=None, name=None):
        self.shape, self.dtype = tuple(shape or input_shape), dtype


class Dense(Layer):
    def __init__(
        self,
        units,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        input_shape=None,
        name=None,
    ):
        super().__init__(input_shape, name)
        if isinstance(units, bool) or not isinstance(units, int) or units < 1:
            raise ValueError(f"Dense: units must be a positive integer, got {units!r}")
        self.units, self.activation_name, self.use_bias = units, activation, use_bias
        self.activation = _activation(activation)
        self._weight_options(kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer)

    def build(self, input_shape):
        inputs = input_shape[-1]
        self._add_kernel_and_bias((inputs, self.units), inputs, self.units, self.units)

    def forward(self, x):
        if x.shape[-1] != self.kernel.shape[0]:
            raise ValueError(
                f"{self.name}: expected inputs with last dimension {self.kernel.shape[0]}, got shape {x.shape}"
            )
        y = x @ self.kernel
        return self.activation(y + self.bias if self.bias is not None else y)

    def get_config(self):
        config = {"name": self.name, "units": self.units, "activation": self.activation_name, "use_bias": self.use_bias}
        return {**config, **self._weight_config()}


def _same_padding(size, kernel, stride):
    """TensorFlow's "same": output ceil(size / stride), the extra padding at the end."""
    total = max((math.ceil(size / stride) - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


class Conv2D(Layer):
    def __init__(
        self,
        filters,
        kernel_size,
        strides=(1, 1),
        padding="valid",
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        input_shape=None,
        name=None,
    ):
        super().__init__(input_shape, name)
        self._weight_options(kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer)
        if padding not in ("valid", "same"):
            raise ValueError(f"Conv2D: padding must be 'valid' or 'same', got {padding!r}")
        self.filters = filters
        self.kernel_size = spatial(kernel_size, 2, "kernel_size", "Conv2D", 1)
        self.strides = spatial(strides, 2, "strides", "Conv2D", 1)
        self.padding, self.activation_name, self.use_bias = padding, activation, use_bias
        self.activation = _activation(activation)

    def build(self, input_shape):
        if len(input_shape) != 3:
            raise ValueError(
                f"{self.name}: expected images (height, width, channels), got a sample shape {input_shape}"
            )
        kh, kw = self.kernel_size
        channels = input_shape[-1]
        shape = (kh, kw, channels, self.filters)
        self._add_kernel_and_bias(shape, kh * kw * channels, kh * kw * self.filters, self.filters)

    def forward(self, x):
        if x.ndim != 4 or x.shape[-1] != self.kernel.shape[2]:
            raise ValueError(
                f"{self.name}: expected (batch, height, width, {self.kernel.shape[2]}) images, got shape {x.shape}"
            )
        images = x.permute(0, 3, 1, 2)
        if self.padding == "same":
            (top, bottom), (left, right) = (
                _same_padding(n, k, s) for n, k, s in zip(images.shape[2:], self.kernel_size, self.strides)
            )
            images = F.pad(images, (left, right, top, bottom))
        out = F.conv2d(images, self.kernel.permute(3, 2, 0, 1), self.bias, stride=self.strides)
        return self.activation(out.permute(0, 2, 3, 1))

    def get_config(self):
        return {
            "name": self.name,
            "filters": self.filters,
            "kernel_size": list(self.kernel_size),
            "strides": list(self.strides),
            "padding": self.padding,
            "activation": self.activation_name,
            "use_bias": self.use_bias,
            **self._weight_config(),
        }


class MaxPooling2D(Layer):
    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", input_shape=None, name=None):
        super().__init__(input_shape, name)
        if padding not in ("valid", "same"):
            raise ValueError(f"MaxPooling2D: padding must be 'valid' or 'same', got {padding!r}")
        self.pool_size = spatial(pool_size, 2, "pool_size", "MaxPooling2D", 1)
        self.strides = self.pool_size if strides is None else spatial(strides, 2, "strides", "MaxPooling2D", 1)
        self.padding = padding

    def forward(self, x):
        if x.ndim != 4:
            raise ValueError(f"{self.name}: expected (batch, height, width, channels), got shape {x.shape}")
        images = x.permute(0, 3, 1, 2)
        if self.padding == "same":
            (top, bottom), (left, right) = (
                _same_padding(n, k, s) for n, k, s in zip(images.shape[2:], self.pool_size, self.strides)
            )
            images = F.pad(images, (left, right, top, bottom), value=float("-inf"))
        return F.max_pool2d(images, self.pool_size, self.strides).permute(0, 2, 3, 1)

    def get_config(self):
        return {
            "name": self.name,
            "pool_size": list(self.pool_size),
            "strides": list(self.strides),
            "padding": self.padding,
        }


class Flatten(Layer):
    def forward(self, x):
        return x.reshape(x.shape[0], -1)


class Dropout(Layer):
    def __init__(self, rate, input_shape=None, name=None):
        super().__init__(input_shape, name)
        if not 0 <= rate < 1:
            raise ValueError(f"Dropout: rate must be in [0, 1), got {rate}")
        self.rate = rate

    def forward(self, x):
        return F.dropout(x, self.rate, self.training)

    def get_config(self):
        return {"name": self.name, "rate": self.rate}


class Embedding(Layer):
    def __init__(self, input_dim, output_dim, input_shape=None, name=None, input_length=None):
        super().__init__(input_shape or ((input_length,) if input_length else None), name)
        self.input_dim, self.output_dim = input_dim, output_dim

    def build(self, input_shape):
        self.embeddings = self.add_weight(
            "embeddings", (self.input_dim, self.output_dim), lambda parameter: init.uniform_(parameter, -0.05, 0.05)
        )

    def forward(self, x):
        return F.embedding(x, self.embeddings)

    def get_config(self):
        return {"name": self.name, "input_dim": self.input_dim, "output_dim": self.output_dim}


class _Recurrent(Layer):
    gates = 1

    def __init__(self, units, return_sequences=False, go_backwards=False, input_shape=None, name=None):
        super().__init__(input_shape, name)
        self.units, self.return_sequences, self.go_backwards = units, return_sequences, go_backwards

    def build(self, input_shape):
        if len(input_shape) != 2:
            raise ValueError(f"{self.name}: expected sequences (timesteps, features), got a sample shape {input_shape}")
        features, size = input_shape[-1], self.units * self.gates
        self.kernel = self.add_weight("kernel", (features, size), glorot_uniform(features, size))
        self.recurrent_kernel = self.add_weight("recurrent_kernel", (self.units, size), orthogonal_blocks(self.gates))
        self.bias = self.add_weight("bias", self.bias_shape, self._initial_bias)

    @property
    def bias_shape(self):
        return (self.units * self.gates,)

    def _initial_bias(self, bias):
        return init.zeros_(bias)

    def forward(self, x):
        if x.ndim != 3:
            raise ValueError(f"{self.name}: expected (batch, timesteps, features), got shape {x.shape}")
        steps = x.transpose(0, 1)  # (T, N, F): the layout of the sequence ops
        if self.go_backwards:  # read the sequence from its end; outputs come in that (reversed) order
            steps = steps.flip(0)
        outputs = self._run(steps, zeros(x.shape[0], self.units, dtype=x.dtype))
        return outputs.transpose(0, 1) if self.return_sequences else outputs[-1]

    def get_config(self):
        config = {"name": self.name, "units": self.units, "return_sequences": self.return_sequences}
        return {**config, "go_backwards": True} if self.go_backwards else config


class SimpleRNN(_Recurrent):
    """h_t = tanh(x_t kernel + h_{t-1} recurrent_kernel + bias): nn.RNN's recurrence with the weights in
    Keras' layout (kernel = W_ih^T, recurrent_kernel = W_hh^T)."""

    def _run(self, steps, h):
        return rnn_sequence(steps, h, self.kernel.T, self.recurrent_kernel.T, self.bias)


def _keras_to_torch_gru(matrix, units):
    """Keras' gate blocks (z, r, h) along the last axis -> PyTorch's (r, z, n)."""
    z, r, h = matrix[..., :units], matrix[..., units : 2 * units], matrix[..., 2 * units :]
    return cat([r, z, h], dim=-1)


class GRU(_Recurrent):
    """Keras' GRU with reset_after=True (its default): bias has two rows, input and recurrent."""

    gates = 3

    @property
    def bias_shape(self):
        return (2, 3 * self.units)

    def _run(self, steps, h):
        u = self.units
        w_ih = _keras_to_torch_gru(self.kernel, u).T
        w_hh = _keras_to_torch_gru(self.recurrent_kernel, u).T
        return gru_sequence(
            steps, h, w_ih, w_hh, _keras_to_torch_gru(self.bias[0], u), _keras_to_torch_gru(self.bias[1], u)
        )


class LSTM(_Recurrent):
    """Keras' LSTM; gate order i, f, c, o is PyTorch's i, f, g, o. The forget-gate bias starts at 1."""

    gates = 4

    def _initial_bias(self, bias):
        init.zeros_(bias)
        with no_grad():
            bias.array[self.units : 2 * self.units] = 1.0  # unit_forget_bias
        return bias

    def _run(self, steps, h):
        outputs, _ = lstm_sequence(
            steps, h, zeros(*h.shape, dtype=h.dtype), self.kernel.T, self.recurrent_kernel.T, self.bias
        )
        return outputs


class BatchNormalization(Layer):
    """Normalise over every axis but the last (channels-last): F.batch_norm on the channels-first view.
    Moving statistics as Keras: moving = momentum * moving + (1 - momentum) * batch statistic, with the
    biased variance (PyTorch's running variance is the unbiased one, so they are kept here)."""

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, input_shape=None, name=None):
        super().__init__(input_shape, name)
        if isinstance(axis, bool) or not isinstance(axis, int) or axis == 0:
            raise ValueError(f"BatchNormalization: axis must be one non-batch axis (an int), got {axis!r}")
        self.axis, self.momentum, self.epsilon = axis, momentum, epsilon

    def build(self, input_shape):
        channels = input_shape[self.axis if self.axis < 0 else self.axis - 1]
        self.gamma = self.add_weight("gamma", (channels,), init.ones_)
        self.beta = self.add_weight("beta", (channels,), init.zeros_)
        self.register_buffer("moving_mean", init.zeros_(Tensor(empty_for_parameters((channels,), np.float32))))
        self.register_buffer("moving_variance", init.ones_(Tensor(empty_for_parameters((channels,), np.float32))))

    def forward(self, x):
        axis = self.axis % x.ndim
        order = (0, axis) + tuple(a for a in range(1, x.ndim) if a != axis)  # the normalised axis second
        channels_first = x.permute(*order)
        if self.training:
            out = F.batch_norm(channels_first, None, None, self.gamma, self.beta, True, eps=self.epsilon)
            with no_grad():
                axes = tuple(a for a in range(x.ndim) if a != axis)
                self.moving_mean.mul_(self.momentum).add_(x.array.mean(axes) * (1 - self.momentum))
                self.moving_variance.mul_(self.momentum).add_(x.array.var(axes) * (1 - self.momentum))
        else:
            out = F.batch_norm(
                channels_first, self.moving_mean, self.moving_variance, self.gamma, self.beta, False, eps=self.epsilon
            )
        return out.permute(*(order.index(axis) for axis in range(x.ndim)))

    def get_config(self):
        return {"name": self.name, "axis": self.axis, "momentum": self.momentum, "epsilon": self.epsilon}


class Conv1D(Layer):
    """1-D convolution over (batch, steps, channels); kernel (k, in, filters). padding "valid", "same"
    (TensorFlow's: output ceil(steps / stride)) or "causal" (left padding: step t sees only steps <= t)."""

    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        dilation_rate=1,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        input_shape=None,
        name=None,
    ):
        super().__init__(input_shape, name)
        self._weight_options(kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer)
        if padding not in ("valid", "same", "causal"):
            raise ValueError(f"Conv1D: padding must be 'valid', 'same' or 'causal', got {padding!r}")
        (self.kernel_size,) = spatial(kernel_size, 1, "kernel_size", "Conv1D", 1)
        (self.strides,) = spatial(strides, 1, "strides", "Conv1D", 1)
        (self.dilation_rate,) = spatial(dilation_rate, 1, "dilation_rate", "Conv1D", 1)
        self.filters, self.padding, self.activation_name, self.use_bias = filters, padding, activation, use_bias
        self.activation = _activation(activation)

    def build(self, input_shape):
        if len(input_shape) != 2:
            raise ValueError(f"{self.name}: expected sequences (steps, channels), got a sample shape {input_shape}")
        k, channels = self.kernel_size, input_shape[-1]
        self._add_kernel_and_bias((k, channels, self.filters), k * channels, k * self.filters, self.filters)

    def forward(self, x):
        if x.ndim != 3 or x.shape[-1] != self.kernel.shape[1]:
            raise ValueError(
                f"{self.name}: expected (batch, steps, {self.kernel.shape[1]}) inputs, got shape {x.shape}"
            )
        sequence = x.transpose(1, 2)
        reach = self.dilation_rate * (self.kernel_size - 1) + 1
        if self.padding == "same":
            sequence = F.pad(sequence, _same_padding(x.shape[1], reach, self.strides))
        elif self.padding == "causal":
            sequence = F.pad(sequence, (reach - 1, 0))
        weight = self.kernel.permute(2, 1, 0)
        out = F.conv1d(sequence, weight, self.bias, stride=self.strides, dilation=self.dilation_rate)
        return self.activation(out.transpose(1, 2))

    def get_config(self):
        return {
            "name": self.name,
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "dilation_rate": self.dilation_rate,
            "activation": self.activation_name,
            "use_bias": self.use_bias,
            **self._weight_config(),
        }


from .reshaping import (  # noqa: E402  (they subclass Layer)
    Activation,
    Add,
    AveragePooling2D,
    Concatenate,
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalMaxPooling1D,
    RepeatVector,
    Rescaling,
    Reshape,
)
from .wrappers import Bidirectional, TimeDistributed  # noqa: E402

LAYER_TYPES = {
    cls.__name__: cls
    for cls in (
        Dense,
        Conv1D,
        Conv2D,
        MaxPooling2D,
        Flatten,
        Dropout,
        Embedding,
        SimpleRNN,
        GRU,
        LSTM,
        BatchNormalization,
        Activation,
        Add,
        AveragePooling2D,
        Concatenate,
        GlobalAveragePooling1D,
        GlobalAveragePooling2D,
        GlobalMaxPooling1D,
        RepeatVector,
        Rescaling,
        Reshape,
        Bidirectional,
        TimeDistributed,
    )
}
