"""Dynamic int8 GRU and LSTM: PyTorch's quantize_dynamic for nn.GRU and nn.LSTM.

Every weight matrix (weight_ih_l{k}, weight_hh_l{k}, ..._reverse) is stored as int8 with one scale per row
(per gate unit), as a Linear's in dynamic.py. A sequence then costs one int8 product for all time steps'
input projections at once, and one small int8 product per step for the hidden state (its rows quantized as
they come), with the gates in float32:

    GRU:   r, z = sigmoid(gi_r + gh_r), sigmoid(gi_z + gh_z)      gi = x W_ih^T + b_ih, gh = h W_hh^T + b_hh
           n = tanh(gi_n + r * gh_n);  h = (1 - z) * n + z * h
    LSTM:  i, f, g, o = sigmoid, sigmoid, tanh, sigmoid of (gi + gh);  c = f * c + i * g;  h = o * tanh(c)

Layers stack, and a bidirectional layer runs a second pass backwards in time and concatenates the two.
"""

import numpy as np

from ..creation import as_tensor
from ..nn.module import Module
from ..reference.elementwise import logistic as _sigmoid
from .dynamic import inference_input, int8_linear, quantize_per_channel


class _DynamicQuantizedRecurrent(Module):
    gates = None  # 3 for a GRU, 4 for an LSTM

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, bidirectional=False):
        super().__init__()
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.bidirectional = bias, batch_first, bidirectional
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else hidden_size * self.directions
            for suffix in self._suffixes():
                for kind, columns in (("ih", layer_input), ("hh", hidden_size)):
                    name = f"{kind}_l{layer}{suffix}"
                    rows = self.gates * hidden_size
                    self.register_buffer(f"weight_{name}", as_tensor(np.zeros((rows, columns), dtype=np.int8)))
                    self.register_buffer(f"scale_{name}", as_tensor(np.ones(rows, dtype=np.float32)))
                    if bias:
                        self.register_buffer(f"bias_{name}", as_tensor(np.zeros(rows, dtype=np.float32)))

    @property
    def directions(self):
        return 2 if self.bidirectional else 1

    def _suffixes(self):
        return ("", "_reverse")[: self.directions]

    @classmethod
    def from_float(cls, rnn):
        if getattr(rnn, "proj_size", 0):
            raise ValueError("quantize_dynamic: an LSTM with proj_size is not supported")
        quantized = cls(rnn.input_size, rnn.hidden_size, rnn.num_layers, rnn.bias, rnn.batch_first, rnn.bidirectional)
        for name, parameter in rnn.named_parameters():
            value = parameter.detach().numpy()
            if name.startswith("weight_"):
                q, scale = quantize_per_channel(value)
                getattr(quantized, name).numpy()[...] = q
                getattr(quantized, "scale_" + name[len("weight_") :]).numpy()[...] = scale
            else:
                getattr(quantized, name).numpy()[...] = value
        return quantized

    def _projection(self, rows, name):
        bias = getattr(self, f"bias_{name}").numpy() if self.bias else None
        weight, scale = getattr(self, f"weight_{name}").numpy(), getattr(self, f"scale_{name}").numpy()
        return int8_linear(rows, weight, scale, bias)

    def _prepare(self, input, hx):
        input = inference_input(self, input)
        x = np.asarray(input.array, dtype=np.float32)
        unbatched = x.ndim == 2
        if x.ndim not in (2, 3) or x.shape[-1] != self.input_size:
            raise ValueError(
                f"{type(self).__name__}: expected input (L, N, {self.input_size}) or (L, {self.input_size}), "
                f"got {x.shape}"
            )
        x = x[:, None] if unbatched else (x.transpose(1, 0, 2) if self.batch_first else x)
        states = self.num_layers * self.directions
        shape = (states, x.shape[1], self.hidden_size)
        if hx is None:
            return x, unbatched, [np.zeros(shape, np.float32)] * (2 if self.gates == 4 else 1)
        tensors = hx if isinstance(hx, tuple) else (hx,)
        arrays = [np.asarray(as_tensor(t).array, dtype=np.float32) for t in tensors]
        arrays = [a[:, None] if unbatched else a for a in arrays]
        for array in arrays:
            if array.shape != shape:
                raise ValueError(f"{type(self).__name__}: the initial state has shape {array.shape}, expected {shape}")
        return x, unbatched, arrays

    def _forward(self, input, hx):
        x, unbatched, states = self._prepare(input, hx)
        length, batch = x.shape[:2]
        finals = [[] for _ in states]
        for layer in range(self.num_layers):
            outputs = []
            for direction, suffix in enumerate(self._suffixes()):
                index = layer * self.directions + direction
                gi = self._projection(x.reshape(length * batch, -1), f"ih_l{layer}{suffix}")
                gi = gi.reshape(length, batch, -1)
                carried = [state[index] for state in states]
                out = np.empty((length, batch, self.hidden_size), np.float32)
                for t in range(length - 1, -1, -1) if direction else range(length):
                    gh = self._projection(carried[0], f"hh_l{layer}{suffix}")
                    carried = self._cell(gi[t], gh, carried)
                    out[t] = carried[0]
                outputs.append(out)
                for final, value in zip(finals, carried):
                    final.append(value)
            x = np.concatenate(outputs, axis=2) if len(outputs) > 1 else outputs[0]
        output = x[:, 0] if unbatched else (x.transpose(1, 0, 2) if self.batch_first else x)
        finals = [np.stack(final)[:, 0] if unbatched else np.stack(final) for final in finals]
        return as_tensor(np.ascontiguousarray(output)), [as_tensor(final) for final in finals]


class DynamicQuantizedGRU(_DynamicQuantizedRecurrent):
    """nn.GRU with int8 weights: forward(input, hx=None) -> (output, h_n)."""

    gates = 3

    def _cell(self, gi, gh, carried):
        (h,) = carried
        size = self.hidden_size
        r = _sigmoid(gi[:, :size] + gh[:, :size])
        z = _sigmoid(gi[:, size : 2 * size] + gh[:, size : 2 * size])
        n = np.tanh(gi[:, 2 * size :] + r * gh[:, 2 * size :])
        return [((1 - z) * n + z * h).astype(np.float32)]

    def forward(self, input, hx=None):
        output, (h_n,) = self._forward(input, hx)
        return output, h_n


class DynamicQuantizedLSTM(_DynamicQuantizedRecurrent):
    """nn.LSTM with int8 weights: forward(input, (h_0, c_0)=None) -> (output, (h_n, c_n))."""

    gates = 4

    def _cell(self, gi, gh, carried):
        _, c = carried
        size = self.hidden_size
        gates = gi + gh
        i, f = _sigmoid(gates[:, :size]), _sigmoid(gates[:, size : 2 * size])
        g, o = np.tanh(gates[:, 2 * size : 3 * size]), _sigmoid(gates[:, 3 * size :])
        c = (f * c + i * g).astype(np.float32)
        return [(o * np.tanh(c)).astype(np.float32), c]

    def forward(self, input, hx=None):
        output, (h_n, c_n) = self._forward(input, hx)
        return output, (h_n, c_n)
